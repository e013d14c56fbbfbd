"""Chinese-CLIP: official key layout, checkpoint round trip, and the maths against torch's own
attention / transformer layers on the same weights."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import cnclip
from common import ExportError


def test_official_layout_round_trip(clip_checkpoint):
    path, _, cfg, model = clip_checkpoint
    saved = torch.load(path)
    assert set(saved) >= {"state_dict", "epoch"}
    assert all(k.startswith("module.") for k in saved["state_dict"])
    loaded = cnclip.load_checkpoint(path, "", cfg=cfg)
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    x = torch.randn(2, 3, 224, 224)
    ids = torch.tensor([[2, 7, 8, 9, 3, 0], [2, 11, 3, 0, 0, 0]])
    with torch.no_grad():
        assert torch.equal(loaded.encode_image(x), model.encode_image(x))
        assert torch.equal(loaded.encode_text(ids), model.encode_text(ids))


def test_unused_official_keys_are_ignored(clip_checkpoint, tmp_path):
    path, _, cfg, model = clip_checkpoint
    saved = torch.load(path)
    saved["state_dict"]["module.bert.pooler.dense.weight"] = torch.zeros(3, 3)
    torch.save(saved, tmp_path / "with_pooler.pt")
    cnclip.load_checkpoint(str(tmp_path / "with_pooler.pt"), "", cfg=cfg)


def test_plain_state_dict_without_prefix_loads(clip_checkpoint, tmp_path):
    path, _, cfg, model = clip_checkpoint
    torch.save(model.state_dict(), tmp_path / "plain.pt")
    loaded = cnclip.load_checkpoint(str(tmp_path / "plain.pt"), "", cfg=cfg)
    assert torch.equal(loaded.text_projection, model.text_projection)


def test_wrong_architecture_is_explained(clip_checkpoint):
    path, _, cfg, _ = clip_checkpoint
    other = dict(cfg, embed_dim=cfg["embed_dim"] * 2)
    with pytest.raises(ExportError, match=r"does not match the architecture.*of another shape.*--arch"):
        cnclip.load_checkpoint(path, "", cfg=other)


def test_unreadable_checkpoints_are_explained(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        cnclip.load_checkpoint(str(tmp_path / "absent.pt"), "ViT-B-16")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ExportError, match="cannot be read as a PyTorch checkpoint"):
        cnclip.load_checkpoint(str(junk), "ViT-B-16")
    torch.save({"state_dict": {"module.x": "text"}}, tmp_path / "strings.pt")
    with pytest.raises(ExportError, match="not a tensor"):
        cnclip.load_checkpoint(str(tmp_path / "strings.pt"), "ViT-B-16")


def test_unknown_arch_names_list_the_known_ones():
    with pytest.raises(ExportError, match="ViT-B-16"):
        cnclip.config("ViT-B-32")
    with pytest.raises(ExportError, match="RBT3-chinese"):
        cnclip.config("RN50", "bert-base")


def test_vit_b_16_matches_the_official_keys_and_size():
    model = cnclip.build(cnclip.config("ViT-B-16"))
    sd = model.state_dict()
    expected = {
        "visual.conv1.weight": (768, 3, 16, 16),
        "visual.class_embedding": (768,),
        "visual.positional_embedding": (197, 768),
        "visual.transformer.resblocks.11.attn.in_proj_weight": (2304, 768),
        "visual.transformer.resblocks.11.attn.out_proj.weight": (768, 768),
        "visual.transformer.resblocks.0.mlp.c_fc.weight": (3072, 768),
        "visual.ln_post.bias": (768,),
        "visual.proj": (768, 512),
        "bert.embeddings.word_embeddings.weight": (21128, 768),
        "bert.embeddings.position_embeddings.weight": (512, 768),
        "bert.embeddings.token_type_embeddings.weight": (2, 768),
        "bert.encoder.layer.11.attention.self.query.weight": (768, 768),
        "bert.encoder.layer.11.attention.output.LayerNorm.weight": (768,),
        "bert.encoder.layer.11.intermediate.dense.weight": (3072, 768),
        "bert.encoder.layer.11.output.dense.weight": (768, 3072),
        "text_projection": (768, 512),
        "logit_scale": (),
    }
    for key, shape in expected.items():
        assert tuple(sd[key].shape) == shape, key
    assert "bert.encoder.layer.12.output.dense.weight" not in sd
    # The published size of CN-CLIP ViT-B/16: 188M parameters.
    assert round(sum(p.numel() for p in model.parameters()) / 1e6) == 188


def test_rn50_matches_the_official_keys_and_size():
    model = cnclip.build(cnclip.config("RN50"))
    sd = model.state_dict()
    expected = {
        "visual.conv1.weight": (32, 3, 3, 3),
        "visual.layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "visual.layer1.0.downsample.1.running_var": (256,),
        "visual.layer4.2.conv3.weight": (2048, 512, 1, 1),
        "visual.attnpool.positional_embedding": (50, 2048),
        "visual.attnpool.c_proj.weight": (1024, 2048),
        "bert.encoder.layer.2.output.dense.weight": (768, 3072),
        "text_projection": (768, 1024),
    }
    for key, shape in expected.items():
        assert tuple(sd[key].shape) == shape, key
    assert "visual.layer1.1.downsample.0.weight" not in sd
    assert "bert.encoder.layer.3.output.dense.weight" not in sd  # RBT3: three layers
    assert round(sum(p.numel() for p in model.parameters()) / 1e6) == 77  # published: 77M


def test_packed_attention_equals_torch_multihead_attention():
    torch.manual_seed(0)
    ours = cnclip.PackedAttention(64, 4).eval()
    for p in ours.parameters():
        nn.init.normal_(p, std=0.2)
    ref = nn.MultiheadAttention(64, 4).eval()
    ref.load_state_dict(ours.state_dict())  # the official checkpoints' names are MHA's
    x = torch.randn(3, 10, 64)
    with torch.no_grad():
        want = ref(x.transpose(0, 1), x.transpose(0, 1), x.transpose(0, 1),
                   need_weights=False)[0].transpose(0, 1)
        torch.testing.assert_close(ours(x), want, rtol=1e-4, atol=1e-5)


def test_attention_pool_equals_torch_multi_head_attention_forward():
    torch.manual_seed(0)
    pool = cnclip.AttentionPool2d(spatial=3, width=32, heads=4, output_dim=16).eval()
    x = torch.randn(2, 32, 3, 3)
    t = x.flatten(2).permute(2, 0, 1)  # (HW)NC, as the reference lays it out
    t = torch.cat([t.mean(dim=0, keepdim=True), t]) + pool.positional_embedding[:, None, :]
    want, _ = F.multi_head_attention_forward(
        t, t, t, 32, 4, None, torch.cat([pool.q_proj.bias, pool.k_proj.bias, pool.v_proj.bias]),
        None, None, False, 0.0, pool.c_proj.weight, pool.c_proj.bias, training=False,
        need_weights=False, use_separate_proj_weight=True, q_proj_weight=pool.q_proj.weight,
        k_proj_weight=pool.k_proj.weight, v_proj_weight=pool.v_proj.weight)
    with torch.no_grad():
        torch.testing.assert_close(pool(x), want[0], rtol=1e-4, atol=1e-5)


def test_bert_layer_equals_torch_post_norm_encoder_layer():
    """BERT's layer is a post-LN transformer layer with erf GELU: torch's TransformerEncoderLayer
    on the same weights must agree on every real (unpadded) token."""
    torch.manual_seed(0)
    cfg = {"hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64,
           "layer_norm_eps": 1e-12}
    ours = cnclip.BertLayer(cfg).eval()
    for p in ours.parameters():
        nn.init.normal_(p, std=0.2)
    ref = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="gelu",
                                     layer_norm_eps=1e-12, batch_first=True).eval()
    a = ours.attention
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(torch.cat([a.self.query.weight, a.self.key.weight,
                                                      a.self.value.weight]))
        ref.self_attn.in_proj_bias.copy_(torch.cat([a.self.query.bias, a.self.key.bias,
                                                    a.self.value.bias]))
        ref.self_attn.out_proj.load_state_dict(a.output.dense.state_dict())
        ref.norm1.load_state_dict(a.output.LayerNorm.state_dict())
        ref.linear1.load_state_dict(ours.intermediate.dense.state_dict())
        ref.linear2.load_state_dict(ours.output.dense.state_dict())
        ref.norm2.load_state_dict(ours.output.LayerNorm.state_dict())
        x = torch.randn(2, 6, 32)
        keep = torch.tensor([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], dtype=torch.bool)
        got = ours(x, ((~keep).float() * -10000.0)[:, None, None, :])
        want = ref(x, src_key_padding_mask=~keep)
        torch.testing.assert_close(got[keep], want[keep], rtol=1e-4, atol=1e-4)


def test_text_padding_does_not_change_the_embedding(clip_checkpoint):
    _, _, _, model = clip_checkpoint
    ids = torch.tensor([[2, 7, 8, 9, 3]])
    padded = F.pad(ids, (0, 47))
    with torch.no_grad():
        a, b = model.encode_text(ids), model.encode_text(padded)
    assert F.cosine_similarity(a, b).item() > 0.99999


def test_text_embedding_is_the_cls_token_projection(clip_checkpoint):
    _, _, _, model = clip_checkpoint
    ids = torch.tensor([[2, 7, 8, 3], [2, 9, 3, 0]])
    with torch.no_grad():
        hidden = model.bert(ids)
        torch.testing.assert_close(model.encode_text(ids), hidden[:, 0] @ model.text_projection)
        # And the CLS token depends on the other tokens (attention is wired).
        other = model.encode_text(torch.tensor([[2, 7, 9, 3]]))
        assert not torch.allclose(other, model.encode_text(ids[:1]))
