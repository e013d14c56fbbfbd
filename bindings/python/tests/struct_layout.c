/* Prints the layout of cbir.h's structs as a C compiler makes it: "struct size" and
 * "struct.field offset" lines. The Python and Rust binding tests compare their own declarations
 * of these structs with it, so a field added to cbir.h cannot silently shift theirs. */
#include <stddef.h>
#include <stdio.h>

#include "cbir.h"

#define SIZE(s) printf(#s " %zu\n", sizeof(s))
#define FIELD(s, f) printf(#s "." #f " %zu\n", offsetof(s, f))

int main(void) {
  SIZE(cbir_model_options_t);
  FIELD(cbir_model_options_t, version);
  FIELD(cbir_model_options_t, device);
  FIELD(cbir_model_options_t, precision);
  FIELD(cbir_model_options_t, threads);
  FIELD(cbir_model_options_t, batch_size);
  FIELD(cbir_model_options_t, verify_hashes);
  FIELD(cbir_model_options_t, exif_orientation);
  FIELD(cbir_model_options_t, fast_decode);
  FIELD(cbir_model_options_t, max_pixels);
  FIELD(cbir_model_options_t, towers);
  SIZE(cbir_model_info_t);
  FIELD(cbir_model_info_t, version);
  FIELD(cbir_model_info_t, name);
  FIELD(cbir_model_info_t, family);
  FIELD(cbir_model_info_t, fingerprint);
  FIELD(cbir_model_info_t, precision);
  FIELD(cbir_model_info_t, device);
  FIELD(cbir_model_info_t, path);
  FIELD(cbir_model_info_t, dim);
  FIELD(cbir_model_info_t, has_image);
  FIELD(cbir_model_info_t, has_text);
  FIELD(cbir_model_info_t, context_length);
  FIELD(cbir_model_info_t, logit_scale);
  FIELD(cbir_model_info_t, batch_size);
  FIELD(cbir_model_info_t, resize);
  FIELD(cbir_model_info_t, image_size);
  FIELD(cbir_model_info_t, image_crop);
  FIELD(cbir_model_info_t, input_side);
  FIELD(cbir_model_info_t, interpolation);
  FIELD(cbir_model_info_t, mean);
  FIELD(cbir_model_info_t, std);
  FIELD(cbir_model_info_t, pooling);
  FIELD(cbir_model_info_t, compute_precision);
  FIELD(cbir_model_info_t, resize_before_rgb);
  SIZE(cbir_pixels_t);
  FIELD(cbir_pixels_t, data);
  FIELD(cbir_pixels_t, width);
  FIELD(cbir_pixels_t, height);
  FIELD(cbir_pixels_t, stride);
  FIELD(cbir_pixels_t, format);
  SIZE(cbir_collection_options_t);
  FIELD(cbir_collection_options_t, version);
  FIELD(cbir_collection_options_t, flags);
  FIELD(cbir_collection_options_t, dim);
  FIELD(cbir_collection_options_t, fingerprint);
  FIELD(cbir_collection_options_t, index_spec);
  FIELD(cbir_collection_options_t, memory_budget_mb);
  SIZE(cbir_item_t);
  FIELD(cbir_item_t, id);
  FIELD(cbir_item_t, uri);
  FIELD(cbir_item_t, content_hash);
  FIELD(cbir_item_t, size);
  FIELD(cbir_item_t, mtime);
  FIELD(cbir_item_t, width);
  FIELD(cbir_item_t, height);
  FIELD(cbir_item_t, payload);
  SIZE(cbir_search_options_t);
  FIELD(cbir_search_options_t, version);
  FIELD(cbir_search_options_t, min_score);
  FIELD(cbir_search_options_t, uri_prefix);
  FIELD(cbir_search_options_t, ids);
  FIELD(cbir_search_options_t, n_ids);
  FIELD(cbir_search_options_t, ef_search);
  FIELD(cbir_search_options_t, nprobe);
  FIELD(cbir_search_options_t, where);
  SIZE(cbir_collection_info_t);
  FIELD(cbir_collection_info_t, path);
  FIELD(cbir_collection_info_t, fingerprint);
  FIELD(cbir_collection_info_t, index_spec);
  FIELD(cbir_collection_info_t, effective_spec);
  FIELD(cbir_collection_info_t, dim);
  FIELD(cbir_collection_info_t, read_only);
  FIELD(cbir_collection_info_t, count);
  FIELD(cbir_collection_info_t, masked);
  FIELD(cbir_collection_info_t, seq);
  FIELD(cbir_collection_info_t, generation);
  SIZE(cbir_ingest_progress_t);
  FIELD(cbir_ingest_progress_t, done);
  FIELD(cbir_ingest_progress_t, total);
  FIELD(cbir_ingest_progress_t, added);
  FIELD(cbir_ingest_progress_t, failed);
  FIELD(cbir_ingest_progress_t, seconds);
  FIELD(cbir_ingest_progress_t, rate);
  FIELD(cbir_ingest_progress_t, eta_seconds);
  SIZE(cbir_ingest_options_t);
  FIELD(cbir_ingest_options_t, version);
  FIELD(cbir_ingest_options_t, recursive);
  FIELD(cbir_ingest_options_t, follow_symlinks);
  FIELD(cbir_ingest_options_t, extensions);
  FIELD(cbir_ingest_options_t, workers);
  FIELD(cbir_ingest_options_t, commit_every);
  FIELD(cbir_ingest_options_t, prune);
  FIELD(cbir_ingest_options_t, fast_decode);
  FIELD(cbir_ingest_options_t, progress);
  FIELD(cbir_ingest_options_t, progress_user);
  SIZE(cbir_ingest_summary_t);
  FIELD(cbir_ingest_summary_t, version);
  FIELD(cbir_ingest_summary_t, found);
  FIELD(cbir_ingest_summary_t, added);
  FIELD(cbir_ingest_summary_t, updated);
  FIELD(cbir_ingest_summary_t, unchanged);
  FIELD(cbir_ingest_summary_t, duplicates);
  FIELD(cbir_ingest_summary_t, failed);
  FIELD(cbir_ingest_summary_t, removed);
  FIELD(cbir_ingest_summary_t, cancelled);
  FIELD(cbir_ingest_summary_t, seconds);
  SIZE(cbir_tokenizer_options_t);
  FIELD(cbir_tokenizer_options_t, version);
  FIELD(cbir_tokenizer_options_t, lower_case);
  SIZE(cbir_preprocess_options_t);
  FIELD(cbir_preprocess_options_t, version);
  FIELD(cbir_preprocess_options_t, resize);
  FIELD(cbir_preprocess_options_t, size);
  FIELD(cbir_preprocess_options_t, crop);
  FIELD(cbir_preprocess_options_t, interpolation);
  FIELD(cbir_preprocess_options_t, exif_orientation);
  FIELD(cbir_preprocess_options_t, fast_decode);
  FIELD(cbir_preprocess_options_t, max_pixels);
  FIELD(cbir_preprocess_options_t, resize_before_rgb);
  return 0;
}
