//! The Rust binding against the real libcbir, on the shipped default model and gallery
//! (models/tiny-bilingual, examples/data/gallery), where searches must bring back the right
//! pictures. CBIR_MODEL / CBIR_GALLERY point it elsewhere (e.g. a random-weight test bundle);
//! the checks of search quality are then skipped, saying so.
use std::fs;
use std::panic;
use std::path::{Path, PathBuf};
use std::process::Command;

use cbir::{
    compose_query, AttrValue, Collection, CollectionOptions, QueryPart, ErrorKind, IngestOptions, Item, Model, ModelOptions,
    PixelFormat, Pixels, Progress, SearchOptions, SpaceVectors, Towers,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn shipped() -> bool {
    std::env::var_os("CBIR_MODEL").is_none()
}

/// The model, or None (saying why) when there is none to test with.
fn model() -> Option<Model> {
    let path = std::env::var_os("CBIR_MODEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("models/tiny-bilingual"));
    if !path.join("bundle.json").is_file() {
        eprintln!("SKIPPED: no model bundle at {} (set CBIR_MODEL)", path.display());
        return None;
    }
    Some(Model::open(&path).expect("opening the model"))
}

fn gallery_dir() -> PathBuf {
    std::env::var_os("CBIR_GALLERY")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("examples/data/gallery"))
        .canonicalize()
        .expect("the gallery folder exists")
}

fn gallery() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(gallery_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("jpg" | "png" | "bmp" | "gif")))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the gallery needs at least 8 images");
    files
}

/// "red_circle" for .../red_circle_07.jpg.
fn label(uri: &str) -> String {
    let name = Path::new(uri).file_stem().unwrap().to_string_lossy().into_owned();
    name.rsplitn(2, '_').nth(1).unwrap_or("").to_string()
}

/// A fresh scratch folder for one test, removed when it goes out of scope.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("cbir-rust-{}-{}", std::process::id(), name));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    Scratch(dir)
}

#[test]
fn errors_carry_code_kind_and_message() {
    let err = cbir::set_threads(-1).unwrap_err();
    assert_eq!((err.code(), err.kind()), (-1, ErrorKind::InvalidArgument));
    assert!(err.message().contains("threads"), "{}", err);
    assert!(err.to_string().contains("invalid argument"), "{}", err);
    cbir::set_threads(0).unwrap();
    let parts: Vec<String> = ["MAJOR", "MINOR", "PATCH"]
        .iter()
        .map(|p| {
            let header = fs::read_to_string(repo().join("include/cbir.h")).unwrap();
            let key = format!("#define CBIR_VERSION_{} ", p);
            let line = header.lines().find(|l| l.starts_with(&key)).unwrap();
            line[key.len()..].trim().to_string()
        })
        .collect();
    assert_eq!(cbir::library_version(), parts.join("."));
    assert_eq!(env!("CARGO_PKG_VERSION"), parts.join("."));
}

#[test]
fn struct_sizes_match_the_c_compiler() {
    let exe = match std::env::var("CBIR_STRUCT_LAYOUT") {
        Ok(exe) => PathBuf::from(exe),
        Err(_) => {
            let dir = scratch("layout");
            let exe = dir.join("layout");
            let src = repo().join("bindings/python/tests/struct_layout.c");
            let ok = Command::new("cc")
                .args(["-std=c99", "-I"])
                .arg(repo().join("include"))
                .arg(&src)
                .arg("-o")
                .arg(&exe)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                eprintln!("SKIPPED: no C compiler to compare struct sizes with (set CBIR_STRUCT_LAYOUT)");
                return;
            }
            let out = Command::new(&exe).output().unwrap().stdout;
            return compare_sizes(&String::from_utf8(out).unwrap());
        }
    };
    compare_sizes(&String::from_utf8(Command::new(exe).output().unwrap().stdout).unwrap());
}

fn compare_sizes(out: &str) {
    for (name, size) in cbir::__struct_sizes() {
        let line = out.lines().find(|l| l.split(' ').next() == Some(name)).unwrap();
        assert_eq!(line, format!("{} {}", name, size), "the Rust declaration of {} drifted", name);
    }
}

#[test]
fn embeddings_are_unit_vectors_of_the_model_dim() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let info = model.info();
    assert!(info.fingerprint.starts_with("sha256:") && info.has_text && info.has_image);
    let v = model.embed_texts(&["a red circle", "红色的圆形"]).unwrap();
    assert_eq!((v.len(), v[0].len()), (2, model.dim()));
    for row in &v {
        let norm: f32 = row.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {}", norm);
    }
    let path = &gallery()[0];
    let from_file = model.embed_image_file(path).unwrap();
    let from_bytes = model.embed_image_buffers(&[fs::read(path).unwrap()]).unwrap().remove(0).unwrap();
    for (a, b) in from_file.iter().zip(&from_bytes) {
        assert!((a - b).abs() < 1e-6);
    }
    let probs = model.classify(&from_file, &["a red circle", "a blue square"]).unwrap();
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
}

#[test]
fn a_model_opened_with_one_tower_refuses_the_other() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let path = PathBuf::from(&model.info().path);
    let only = |towers| Model::open_with(&path, &ModelOptions { towers, ..Default::default() }).unwrap();
    let image = only(Towers::Image);
    assert!(image.info().has_image && !image.info().has_text);
    assert_eq!(image.info().fingerprint, model.info().fingerprint);
    let err = image.embed_texts(&["a red circle"]).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unsupported, "{}", err);
    let file = &gallery()[0];
    assert_eq!(image.embed_image_file(file).unwrap(), model.embed_image_file(file).unwrap());
    let text = only(Towers::Text);
    assert!(text.info().has_text && !text.info().has_image);
    assert_eq!(text.embed_texts(&["a red circle"]).unwrap(), model.embed_texts(&["a red circle"]).unwrap());
    assert_eq!(text.embed_image_file(file).unwrap_err().kind(), ErrorKind::Unsupported);
}

#[test]
fn bad_images_fail_with_their_own_codes() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    // One bad image never fails the batch: each gets its own result.
    let good = fs::read(&gallery()[0]).unwrap();
    let results = model.embed_image_buffers(&[good.clone(), b"not an image".to_vec(), good[..300].to_vec()]).unwrap();
    assert_eq!(results.len(), 3);
    let first = results[0].as_ref().unwrap();
    let alone = model.embed_image_file(&gallery()[0]).unwrap();
    assert!(first.iter().zip(&alone).all(|(a, b)| (a - b).abs() < 1e-5));
    let err = results[1].as_ref().unwrap_err();
    assert_eq!((err.kind(), err.code()), (ErrorKind::Image, -20));
    assert!(err.message().contains("image 1"), "{}", err);
    assert_eq!(results[2].as_ref().unwrap_err().kind(), ErrorKind::Image);
    let dir = scratch("missing");
    let missing = dir.join("missing.jpg");
    let results = model.embed_image_files(&[gallery()[0].clone(), missing.clone(), gallery()[1].clone()]).unwrap();
    assert!(results[0].is_ok() && results[2].is_ok());
    let err = results[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.message().contains("image 1") && err.message().contains("missing.jpg"), "{}", err);
    assert_eq!(model.embed_image_file(&missing).unwrap_err().kind(), ErrorKind::NotFound);
    let short = Pixels { data: &[0u8; 10], width: 4, height: 4, stride: 0, format: PixelFormat::Rgb8 };
    assert_eq!(model.embed_image_pixels(&[short]).unwrap_err().kind(), ErrorKind::InvalidArgument);
    let gray = Pixels { data: &[128u8; 64], width: 8, height: 8, stride: 0, format: PixelFormat::Gray8 };
    assert_eq!(model.embed_image_pixels(&[gray]).unwrap()[0].as_ref().unwrap().len(), model.dim());
}

#[test]
fn ingest_then_search_by_text_and_by_image() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("search");
    let coll = Collection::open(dir.join("c"), &CollectionOptions::for_model(&model)).unwrap();
    let files = gallery();
    let mut calls = Vec::new();
    let mut record = |p: &Progress| {
        calls.push(p.clone());
        true
    };
    let report = coll
        .ingest_dir(&model, gallery_dir(), IngestOptions { progress: Some(&mut record), ..Default::default() })
        .unwrap();
    assert_eq!((report.added, report.failed), (files.len() as u64, 0), "{:?}", report);
    let last = calls.last().expect("progress was reported");
    assert_eq!((last.done, last.total), (files.len() as u64, files.len() as u64));
    let again = coll.ingest_dir(&model, gallery_dir(), IngestOptions::default()).unwrap();
    assert_eq!((again.added, again.unchanged), (0, files.len() as u64));

    let query = &files[files.len() / 2];
    let hits = coll.search(&model.embed_image_file(query).unwrap(), 5, &SearchOptions::default()).unwrap();
    assert_eq!(hits[0].uri, query.to_str().unwrap());
    assert!(hits[0].score > 0.999 && hits.windows(2).all(|w| w[0].score >= w[1].score));
    let similar = coll.search_similar(hits[0].id, 3, &SearchOptions::default()).unwrap();
    assert!(similar.iter().all(|h| h.id != hits[0].id) && similar.len() == 3);
    let only = coll.search(&model.embed_image_file(query).unwrap(), 5,
                           &SearchOptions { ids: Some(&[hits[2].id]), ..Default::default() }).unwrap();
    assert_eq!(only.iter().map(|h| h.id).collect::<Vec<_>>(), vec![hits[2].id]);

    if !shipped() {
        eprintln!("SKIPPED: search quality is only checked on the shipped model");
        return;
    }
    // The image's own colour throughout, and another of its kind among the next four.
    let own = label(&hits[0].uri);
    let colour = format!("{}_", own.split('_').next().unwrap());
    assert!(hits.iter().all(|h| label(&h.uri).starts_with(&colour)), "{:?}", hits);
    assert!(hits[1..].iter().any(|h| label(&h.uri) == own), "{:?}", hits);
    for text in ["a red circle", "红色的圆形"] {
        let hits = coll.search(&model.embed_text(text).unwrap(), 5, &SearchOptions::default()).unwrap();
        let labels: Vec<String> = hits.iter().map(|h| label(&h.uri)).collect();
        assert_eq!(labels[0], "red_circle", "{}: {:?}", text, hits);
        assert!(labels.iter().all(|l| l.starts_with("red_")), "{}: {:?}", text, hits);
    }
}

#[test]
fn bad_files_are_reported_and_good_ones_indexed() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("mixed");
    let folder = dir.join("images");
    fs::create_dir(&folder).unwrap();
    for f in &gallery()[..3] {
        fs::copy(f, folder.join(f.file_name().unwrap())).unwrap();
    }
    fs::write(folder.join("notes.jpg"), "not an image").unwrap();
    fs::write(folder.join("truncated.jpg"), &fs::read(&gallery()[0]).unwrap()[..300]).unwrap();
    let coll = Collection::open(dir.join("c"), &CollectionOptions::for_model(&model)).unwrap();
    let report = coll.ingest_dir(&model, &folder, IngestOptions::default()).unwrap();
    assert_eq!((report.added, report.failed), (3, 2), "{:?}", report);
    let mut bad: Vec<&str> = report.failures.iter().map(|f| f.path.rsplit('/').next().unwrap()).collect();
    bad.sort();
    assert_eq!(bad, ["notes.jpg", "truncated.jpg"]);
    assert!(report.failures.iter().all(|f| f.error.kind() == ErrorKind::Image && !f.error.message().is_empty()));
    assert_eq!(coll.count().unwrap(), 3);
    coll.close().unwrap();
}

#[test]
fn a_collection_refuses_another_model() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("mismatch");
    Collection::open(dir.join("c"), &CollectionOptions::for_model(&model)).unwrap().close().unwrap();
    let other = CollectionOptions { fingerprint: Some(format!("sha256:{}", "0".repeat(64))), ..Default::default() };
    assert_eq!(Collection::open(dir.join("c"), &other).unwrap_err().kind(), ErrorKind::Mismatch);
    let foreign = CollectionOptions { create: true, dim: model.dim(), ..other };
    let coll = Collection::open(dir.join("d"), &foreign).unwrap();
    let err = coll.ingest_dir(&model, gallery_dir(), IngestOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Mismatch, "{}", err);
    let err = Collection::open(dir.join("absent"), &CollectionOptions::default()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
fn items_round_trip_and_searches_run_on_many_threads() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("items");
    let coll = Collection::open(dir.join("c"), &CollectionOptions::for_model(&model)).unwrap();
    let vectors = model.embed_texts(&["a red circle", "a blue square", "a green star"]).unwrap();
    let items = vec![Item::new("a"), Item { payload: "{\"n\": 2}".into(), width: 5, ..Item::new("b") }, Item::new("c")];
    let ids = coll.add(&items, &vectors).unwrap();
    assert_eq!(coll.ids().unwrap(), ids);
    let b = coll.get(ids[1]).unwrap();
    assert_eq!((b.uri.as_str(), b.payload.as_str(), b.width), ("b", "{\"n\": 2}", 5));
    assert_eq!(coll.find("c").unwrap(), ids[2]);
    assert_eq!(coll.add(&[Item::new("a")], &vectors[..1]).unwrap_err().kind(), ErrorKind::Exists);
    assert_eq!(coll.upsert(&[Item::new("a")], &vectors[2..]).unwrap(), vec![ids[0]]);
    assert_eq!(coll.add(&[Item::new("d")], &[vec![1.0f32; 3]]).unwrap_err().kind(), ErrorKind::Mismatch);

    // Model and Collection are Sync: searches from several threads at once agree.
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|i| s.spawn({
                let (coll, model, vectors) = (&coll, &model, &vectors);
                move || {
                    let q = model.embed_text(["a blue square", "a green star"][i % 2]).unwrap();
                    (coll.search(&q, 1, &SearchOptions::default()).unwrap()[0].id,
                     coll.search(&vectors[1], 1, &SearchOptions::default()).unwrap()[0].id)
                }
            }))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().1, ids[1]);
        }
    });
    assert_eq!(coll.remove(&[ids[1], 999]).unwrap(), 1);
    assert_eq!(coll.get(ids[1]).unwrap_err().kind(), ErrorKind::NotFound);
    coll.close().unwrap();
}

#[test]
fn progress_can_cancel_and_a_panic_comes_back() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("cancel");
    let folder = dir.join("images");
    fs::create_dir(&folder).unwrap();
    for f in &gallery()[..12] {
        fs::copy(f, folder.join(f.file_name().unwrap())).unwrap(); // more than one batch
    }
    let coll = Collection::open(dir.join("c"), &CollectionOptions::for_model(&model)).unwrap();
    let mut stop = |_: &Progress| false;
    let r = coll.ingest_dir(&model, &folder, IngestOptions { progress: Some(&mut stop), ..Default::default() }).unwrap();
    assert!(r.cancelled && r.added < 12 && coll.count().unwrap() == r.added, "{:?}", r);
    let caught = panic::catch_unwind(panic::AssertUnwindSafe(|| {
        let mut boom = |_: &Progress| -> bool { panic!("stop here") };
        let _ = coll.ingest_dir(&model, &folder, IngestOptions { progress: Some(&mut boom), ..Default::default() });
    }));
    assert_eq!(*caught.unwrap_err().downcast::<&str>().unwrap(), "stop here");
    let done = coll.ingest_dir(&model, &folder, IngestOptions::default()).unwrap();
    assert!(!done.cancelled && coll.count().unwrap() == 12);
}

#[test]
fn log_handler_receives_the_library_warnings() {
    use std::sync::{Arc, Mutex};
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("log");
    let path = dir.join("coll");
    let coll = Collection::open(&path, &CollectionOptions::for_model(&model)).unwrap();
    coll.add(&[Item::new("x")], &[vec![1.0f32; model.dim()]]).unwrap();
    coll.close().unwrap();
    let remove_index = || {
        for entry in fs::read_dir(&path).unwrap() {
            let p = entry.unwrap().path();
            if p.file_name().unwrap().to_string_lossy().starts_with("index") {
                fs::remove_file(p).unwrap();
            }
        }
    };
    remove_index(); // the index is a cache: cbir rebuilds it from the catalog, and warns

    // A handler that panics must not take the process down: the panic stays on the Rust side.
    cbir::set_log_handler(cbir::LogLevel::Info, |_, _| panic!("a handler's bug"));
    let reopen = || Collection::open(&path, &CollectionOptions { create: false, ..CollectionOptions::for_model(&model) }).unwrap();
    assert_eq!(reopen().count().unwrap(), 1);
    remove_index();

    let messages: Arc<Mutex<Vec<(cbir::LogLevel, String)>>> = Arc::default();
    let sink = Arc::clone(&messages);
    cbir::set_log_handler(cbir::LogLevel::Info, move |level, m| sink.lock().unwrap().push((level, m.to_string())));
    assert_eq!(reopen().count().unwrap(), 1);
    let got = messages.lock().unwrap().clone();
    assert!(got.iter().any(|(l, m)| *l == cbir::LogLevel::Warn && m.contains("rebuilding the index")), "{:?}", got);

    // Replaced, the old handler is dropped (it held the other reference to `messages`).
    cbir::set_log_handler(cbir::LogLevel::Error, |_, _| {});
    assert_eq!(Arc::strong_count(&messages), 1);
    cbir::clear_log_handler();
    remove_index();
    assert_eq!(reopen().count().unwrap(), 1);
    assert_eq!(messages.lock().unwrap().len(), got.len());
}

#[test]
fn tokenizers_give_the_vocabularys_ids() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let vocab_text = fs::read_to_string(Path::new(&model.info().path).join("vocab.txt")).unwrap();
    let vocab: Vec<&str> = vocab_text.lines().collect();
    let id = |t: &str| vocab.iter().position(|v| *v == t).unwrap() as i64;
    let own = model.tokenizer().unwrap();
    let opened = cbir::Tokenizer::open(&model.info().path, true).unwrap();
    for tok in [&own, &opened] {
        assert_eq!(tok.vocab_size(), vocab.len());
        assert_eq!(tok.token(0).as_deref(), Some(vocab[0]));
        assert_eq!(tok.token(vocab.len() as i64), None);
        // Lower-cased as Chinese-CLIP does; words the tiny vocabulary lacks become [UNK].
        let words: Vec<&str> = ["a", "red", "circle"].iter().map(|w| if vocab.contains(w) { *w } else { "[UNK]" }).collect();
        assert_eq!(tok.tokens("A Red Circle").unwrap(), words);
        let t = tok.tokenize(&["a red circle", ""], 8).unwrap();
        assert_eq!(t.lengths, [5, 2]);
        let mut row: Vec<i64> = ["[CLS]"].iter().chain(&words).chain(&["[SEP]"]).map(|w| id(w)).collect();
        row.resize(8, id("[PAD]"));
        assert_eq!(t.ids[0], row);
        assert_eq!(t.ids[1][..2], [id("[CLS]"), id("[SEP]")]);
        assert_eq!(tok.tokenize(&["x"], 1).unwrap_err().kind(), ErrorKind::InvalidArgument);
    }
    let dir = scratch("vocab");
    assert_eq!(cbir::Tokenizer::open(dir.join("none.txt"), true).unwrap_err().kind(), ErrorKind::NotFound);
    fs::write(dir.join("vocab.txt"), "a\nb\n").unwrap();
    assert_eq!(cbir::Tokenizer::open(dir.join("vocab.txt"), true).unwrap_err().kind(), ErrorKind::Corrupt);
}

#[test]
fn attributes_photo_facts_duplicates_and_composite_queries() {
    let model = match model() {
        Some(m) => m,
        None => return,
    };
    let dir = scratch("attrs");
    let coll = Collection::open(dir.join("c"), &CollectionOptions::for_model(&model)).unwrap();
    let v = model.embed_texts(&["a red circle", "a blue square", "a green star"]).unwrap();
    let ids = coll.add(&[Item::new("a"), Item::new("b"), Item::new("a-copy")],
                       &[v[0].clone(), v[1].clone(), v[0].clone()]).unwrap();
    let changed = coll.set_attrs(&[
        (ids[0], "album", Some(AttrValue::String("Rome".into()))),
        (ids[0], "stars", Some(AttrValue::Int(5))),
        (ids[0], "fav", Some(AttrValue::Bool(true))),
        (ids[1], "seen", Some(AttrValue::Time(1_700_000_000))),
        (ids[1], "w", Some(AttrValue::Float(0.5))),
    ]).unwrap();
    assert_eq!(changed, 5);
    assert_eq!(coll.attrs(ids[0]).unwrap(), vec![
        ("album".to_string(), AttrValue::String("Rome".into())),
        ("fav".to_string(), AttrValue::Bool(true)),
        ("stars".to_string(), AttrValue::Int(5)),
    ]);
    let only = SearchOptions { filter: Some("attr.stars >= 4 or attr.seen < '2024-01-01'"), ..Default::default() };
    let mut found: Vec<i64> = coll.search(&v[2], 3, &only).unwrap().iter().map(|h| h.id).collect();
    found.sort();
    assert_eq!(found, vec![ids[0], ids[1]]);
    assert_eq!(coll.set_attrs(&[(999, "x", Some(AttrValue::Int(1)))]).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(coll.set_attrs(&[(ids[0], "stars", None)]).unwrap(), 1);
    let photo = coll.photo(ids[0]).unwrap();
    assert_eq!((photo.format.as_str(), photo.taken, photo.location), ("", None, None));
    assert_eq!(coll.duplicates(0.999, &SearchOptions::default()).unwrap(), vec![vec![ids[0], ids[2]]]);

    let q = compose_query(&[(QueryPart::Text("a red circle"), 1.0), (QueryPart::Item(ids[1]), -0.5),
                            (QueryPart::Vector(&v[2]), 0.25)], Some(&model), Some(&coll)).unwrap();
    let want: Vec<f32> = (0..model.dim()).map(|d| v[0][d] - 0.5 * v[1][d] + 0.25 * v[2][d]).collect();
    let norm = want.iter().map(|x| x * x).sum::<f32>().sqrt();
    for (got, want) in q.iter().zip(&want) {
        assert!((got - want / norm).abs() < 1e-5, "{} vs {}", got, want / norm);
    }
    let cancel = compose_query(&[(QueryPart::Text("x"), 1.0), (QueryPart::Text("x"), -1.0)], Some(&model), None);
    assert_eq!(cancel.unwrap_err().kind(), ErrorKind::InvalidArgument);
    coll.close().unwrap();
}

#[test]
fn two_vector_spaces_each_searched_on_its_own() {
    let dir = scratch("spaces");
    let opts = CollectionOptions {
        create: true,
        dim: 4,
        fingerprint: Some("clip-test".into()),
        index_spec: Some("flat".into()),
        space: Some("clip".into()),
        ..Default::default()
    };
    let coll = Collection::open(dir.join("c"), &opts).unwrap();
    coll.add_space("dino", 3, "dino-test", Some("flat")).unwrap();
    assert_eq!(coll.add_space("dino", 3, "dino-test", None).unwrap_err().kind(), ErrorKind::Exists);
    let items = vec![Item::new("a"), Item::new("b"), Item::new("c")];
    // In clip, a and b point the same way; in dino, a and c do.
    let clip = [1.0f32, 0.0, 0.0, 0.0, 0.9, 0.1, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0];
    let dino = [0.0f32, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.9, 0.1];
    let ids = coll
        .add_spaces(&items, &[SpaceVectors { space: None, vectors: &clip, dim: 4 },
                              SpaceVectors { space: Some("dino"), vectors: &dino, dim: 3 }], false)
        .unwrap();
    let near = |space: &str, id: i64| {
        coll.search_similar(id, 1, &SearchOptions { space: Some(space), ..Default::default() }).unwrap()[0].id
    };
    assert_eq!(near("clip", ids[0]), ids[1]);
    assert_eq!(near("dino", ids[0]), ids[2]);
    let spaces = coll.spaces().unwrap();
    assert_eq!(spaces.iter().map(|s| (s.name.as_str(), s.dim, s.count, s.first)).collect::<Vec<_>>(),
               vec![("clip", 4, 3, true), ("dino", 3, 3, false)]);
    let v = coll.space_vector(ids[2], Some("dino")).unwrap();
    assert!((v[1] - 0.9 / (0.82f32).sqrt()).abs() < 1e-5, "{:?}", v);
    let err = coll.search(&[1.0, 0.0, 0.0], 1, &SearchOptions { space: Some("nope"), ..Default::default() }).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{}", err);
    coll.add_space("late", 2, "late-test", Some("flat")).unwrap();
    coll.set_space_vectors("late", &ids[..1], &[1.0, 0.0], 2).unwrap();
    assert_eq!(coll.set_space_vectors("late", &[ids[1], 999], &[1.0, 0.0, 0.0, 1.0], 2).unwrap_err().kind(),
               ErrorKind::NotFound);
    coll.rebuild_space("dino", Some("hnsw:M=8")).unwrap();
    assert_eq!(coll.spaces().unwrap().iter().map(|s| s.count).collect::<Vec<_>>(), vec![3, 3, 1]);
    coll.close().unwrap();
}
