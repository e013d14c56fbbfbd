// Command search_folder indexes a folder of images with cbir, then searches it by text and by
// image.
//
//	go run ./examples/search_folder MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...
package main

import (
	"fmt"
	"os"
	"strconv"

	"cbir"
)

func run(args []string) error {
	model, err := cbir.OpenModel(args[0], nil)
	if err != nil {
		return err
	}
	defer model.Close()
	// Created on the first run, tied to this model's fingerprint.
	coll, err := cbir.OpenCollection(args[2], cbir.OptionsFor(model))
	if err != nil {
		return err
	}
	defer coll.Close()

	r, err := coll.IngestDir(model, args[1], &cbir.IngestOptions{
		Progress: func(p cbir.Progress) bool {
			fmt.Fprintf(os.Stderr, "\rindexing: %d/%d files", p.Done, p.Total)
			if p.Done == p.Total {
				fmt.Fprintln(os.Stderr)
			}
			return true // false would cancel
		},
	})
	if err != nil {
		return err
	}
	fmt.Printf("indexed %s: %d found, %d added, %d unchanged, %d failed\n",
		args[1], r.Found, r.Added, r.Unchanged, r.Failed)
	for _, f := range r.Failures {
		fmt.Printf("failed: %s: %s\n", f.Path, f.Err.Message)
	}

	k := 5
	for i := 3; i+1 < len(args); i += 2 {
		flag, value := args[i], args[i+1]
		var query []float32
		switch flag {
		case "-k":
			if k, err = strconv.Atoi(value); err != nil {
				return err
			}
			continue
		case "-t":
			query, err = model.EmbedText(value)
			fmt.Printf("text %q:\n", value)
		case "-i":
			query, err = model.EmbedImageFile(value)
			fmt.Printf("image %q:\n", value)
		default:
			fmt.Fprintln(os.Stderr, "ignoring unknown option", flag)
			continue
		}
		if err != nil {
			return err
		}
		hits, err := coll.Search(query, k, nil)
		if err != nil {
			return err
		}
		for rank, h := range hits {
			fmt.Printf("  %d. %.3f %s\n", rank+1, h.Score, h.URI)
		}
	}
	return coll.Save() // Close saves too; Save reports a failure here
}

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintf(os.Stderr, "usage: %s MODEL_DIR IMAGE_DIR COLLECTION_DIR [-k K] [-t TEXT]... [-i IMAGE]...\n", os.Args[0])
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
