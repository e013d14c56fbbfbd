//! Index a folder of images with cbir, then search it by text and by image.
//!
//!     cargo run --example search_folder -- MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...
use std::process::ExitCode;

use cbir::{Collection, CollectionOptions, IngestOptions, Model, Progress, SearchOptions};

fn run(args: &[String]) -> cbir::Result<()> {
    let model = Model::open(&args[1])?;
    // Created on the first run, tied to this model's fingerprint.
    let coll = Collection::open(&args[3], &CollectionOptions::for_model(&model))?;

    let mut show = |p: &Progress| {
        eprint!("\rindexing: {}/{} files{}", p.done, p.total, if p.done == p.total { "\n" } else { "" });
        true // false would cancel
    };
    let options = IngestOptions { progress: Some(&mut show), ..Default::default() };
    let r = coll.ingest_dir(&model, &args[2], options)?;
    println!("indexed {}: {} found, {} added, {} unchanged, {} failed",
             args[2], r.found, r.added, r.unchanged, r.failed);
    for f in &r.failures {
        println!("failed: {}: {}", f.path, f.error.message());
    }

    let mut k = 5;
    for pair in args[4..].chunks(2) {
        let (flag, value) = match pair {
            [flag, value] => (flag.as_str(), value),
            _ => break,
        };
        let query = match flag {
            "-k" => {
                k = value.parse().unwrap_or(5);
                continue;
            }
            "-t" => model.embed_text(value)?,
            "-i" => model.embed_image_file(value)?,
            _ => {
                eprintln!("ignoring unknown option {}", flag);
                continue;
            }
        };
        println!("{} \"{}\":", if flag == "-t" { "text" } else { "image" }, value);
        for (rank, hit) in coll.search(&query, k, &SearchOptions::default())?.iter().enumerate() {
            println!("  {}. {:.3} {}", rank + 1, hit.score, hit.uri);
        }
    }
    coll.close() // saves, reporting any failure
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!("usage: {} MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...", args[0]);
        return ExitCode::from(2);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e);
            ExitCode::FAILURE
        }
    }
}
