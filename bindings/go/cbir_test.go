// The Go binding against the real libcbir, on the shipped default model and gallery
// (models/tiny-bilingual, examples/data/gallery), where searches must bring back the right
// pictures. CBIR_MODEL / CBIR_GALLERY point it elsewhere (e.g. a random-weight test bundle);
// the checks of search quality then skip, saying so.
package cbir_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"cbir"
)

var shipped = os.Getenv("CBIR_MODEL") == ""

func openModel(t *testing.T) *cbir.Model {
	t.Helper()
	path := os.Getenv("CBIR_MODEL")
	if path == "" {
		path = "../../models/tiny-bilingual"
	}
	if _, err := os.Stat(filepath.Join(path, "bundle.json")); err != nil {
		t.Skipf("no model bundle at %s (set CBIR_MODEL)", path)
	}
	m, err := cbir.OpenModel(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func galleryDir(t *testing.T) string {
	dir := os.Getenv("CBIR_GALLERY")
	if dir == "" {
		dir = "../../examples/data/gallery"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func gallery(t *testing.T) []string {
	var files []string
	entries, err := os.ReadDir(galleryDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".png", ".bmp", ".gif":
			files = append(files, filepath.Join(galleryDir(t), e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) < 8 {
		t.Fatalf("the gallery %s needs at least 8 images", galleryDir(t))
	}
	return files
}

var galleryName = regexp.MustCompile(`^([a-z]+_[a-z]+)_\d+\.jpg$`)

// label is "red_circle" for .../red_circle_07.jpg.
func label(uri string) string {
	m := galleryName.FindStringSubmatch(filepath.Base(uri))
	if m == nil {
		return ""
	}
	return m[1]
}

func newCollection(t *testing.T, m *cbir.Model) *cbir.Collection {
	c, err := cbir.OpenCollection(filepath.Join(t.TempDir(), "c"), cbir.OptionsFor(m))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestErrorsCarryCodeAndMessage(t *testing.T) {
	err := cbir.SetThreads(-1)
	var e *cbir.Error
	if !errors.As(err, &e) || e.Code != -1 || !strings.Contains(e.Message, "threads") {
		t.Fatalf("SetThreads(-1) = %v", err)
	}
	if !errors.Is(err, cbir.ErrInvalid) || errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("errors.Is does not match by code: %v", err)
	}
	if !strings.Contains(err.Error(), "invalid argument") {
		t.Fatalf("Error() lacks the status text: %q", err.Error())
	}
	if err := cbir.SetThreads(0); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cbir.LibraryVersion(), "0.") || !strings.Contains(cbir.BuildInfo(), "cbir") {
		t.Fatalf("version %q, build %q", cbir.LibraryVersion(), cbir.BuildInfo())
	}
}

func TestEmbeddings(t *testing.T) {
	m := openModel(t)
	if info := m.Info(); !strings.HasPrefix(info.Fingerprint, "sha256:") || !info.HasText || !info.HasImage {
		t.Fatalf("info %+v", info)
	}
	v, err := m.EmbedTexts([]string{"a red circle", "红色的圆形"})
	if err != nil || len(v) != 2 || len(v[1]) != m.Dim() {
		t.Fatalf("EmbedTexts: %v, %d rows", err, len(v))
	}
	var norm float64
	for _, x := range v[1] {
		norm += float64(x) * float64(x)
	}
	if math.Abs(math.Sqrt(norm)-1) > 1e-4 {
		t.Fatalf("norm %f", math.Sqrt(norm))
	}
	files := gallery(t)
	fromFile, err := m.EmbedImageFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(files[0])
	fromBytes, err := m.EmbedImageBuffers([][]byte{data})
	if err == nil {
		err = fromBytes[0].Err
	}
	if err != nil {
		t.Fatal(err)
	}
	for i := range fromFile {
		if math.Abs(float64(fromFile[i]-fromBytes[0].Vector[i])) > 1e-6 {
			t.Fatalf("file and bytes differ at %d", i)
		}
	}
	probs, err := m.Classify(fromFile, []string{"a red circle", "a blue square"})
	if err != nil || math.Abs(float64(probs[0]+probs[1])-1) > 1e-4 {
		t.Fatalf("Classify: %v %v", probs, err)
	}
}

func TestAModelOpenedWithOneTowerRefusesTheOther(t *testing.T) {
	m := openModel(t)
	open := func(towers cbir.Towers) *cbir.Model {
		one, err := cbir.OpenModel(m.Info().Path, &cbir.ModelOptions{Towers: towers})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { one.Close() })
		return one
	}
	file := gallery(t)[0]
	image := open(cbir.ImageTower)
	if info := image.Info(); !info.HasImage || info.HasText || info.Fingerprint != m.Info().Fingerprint {
		t.Fatalf("image-only info %+v", info)
	}
	if _, err := image.EmbedText("a red circle"); !errors.Is(err, cbir.ErrUnsupported) {
		t.Fatalf("EmbedText without a text tower: %v", err)
	}
	a, errA := image.EmbedImageFile(file)
	b, errB := m.EmbedImageFile(file)
	if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
		t.Fatalf("image-only embedding differs: %v %v", errA, errB)
	}
	text := open(cbir.TextTower)
	if info := text.Info(); info.HasImage || !info.HasText {
		t.Fatalf("text-only info %+v", info)
	}
	if _, err := text.EmbedImageFile(file); !errors.Is(err, cbir.ErrUnsupported) {
		t.Fatalf("EmbedImageFile without an image tower: %v", err)
	}
}

func TestBadImagesFailWithTheirOwnCodes(t *testing.T) {
	m := openModel(t)
	good, err := os.ReadFile(gallery(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	// One bad image never fails the batch: each gets its own outcome.
	res, err := m.EmbedImageBuffers([][]byte{good, []byte("not an image"), good[:300]})
	if err != nil || len(res) != 3 {
		t.Fatalf("EmbedImageBuffers: %v %v", res, err)
	}
	alone, err := m.EmbedImageFile(gallery(t)[0])
	if err != nil || res[0].Err != nil || len(res[0].Vector) != m.Dim() {
		t.Fatalf("the good image: %v %v", res[0].Err, err)
	}
	for i := range alone {
		if math.Abs(float64(alone[i]-res[0].Vector[i])) > 1e-5 {
			t.Fatalf("the good image's vector differs in a batch at %d", i)
		}
	}
	var e *cbir.Error
	if !errors.Is(res[1].Err, cbir.ErrImage) || !errors.As(res[1].Err, &e) || e.Code != -20 ||
		!strings.Contains(e.Message, "image 1") || res[1].Vector != nil {
		t.Fatalf("garbage bytes: %v", res[1].Err)
	}
	if !errors.Is(res[2].Err, cbir.ErrImage) {
		t.Fatalf("truncated JPEG: %v", res[2].Err)
	}
	missing := filepath.Join(t.TempDir(), "missing.jpg")
	files, err := m.EmbedImageFiles([]string{gallery(t)[0], missing, gallery(t)[1]})
	if err != nil || files[0].Err != nil || files[2].Err != nil {
		t.Fatalf("good files: %v %v", files, err)
	}
	err = files[1].Err
	if !errors.Is(err, cbir.ErrNotFound) || !strings.Contains(err.Error(), "image 1") ||
		!strings.Contains(err.Error(), "missing.jpg") {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := m.EmbedImageFile(missing); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("one missing file: %v", err)
	}
}

func TestIngestThenSearchByTextAndImage(t *testing.T) {
	m := openModel(t)
	c := newCollection(t, m)
	files := gallery(t)
	var last cbir.Progress
	calls := 0
	r, err := c.IngestDir(m, galleryDir(t), &cbir.IngestOptions{Progress: func(p cbir.Progress) bool {
		last, calls = p, calls+1
		return true
	}})
	if err != nil || r.Added != uint64(len(files)) || r.Failed != 0 {
		t.Fatalf("IngestDir: %+v %v", r, err)
	}
	if calls == 0 || last.Done != uint64(len(files)) || last.Total != last.Done {
		t.Fatalf("progress: %d calls, last %+v", calls, last)
	}
	again, err := c.IngestDir(m, galleryDir(t), nil)
	if err != nil || again.Added != 0 || again.Unchanged != uint64(len(files)) {
		t.Fatalf("re-ingest: %+v %v", again, err)
	}

	query := files[len(files)/2]
	q, err := m.EmbedImageFile(query)
	if err != nil {
		t.Fatal(err)
	}
	hits, err := c.Search(q, 5, nil)
	if err != nil || len(hits) != 5 || hits[0].URI != query || hits[0].Score < 0.999 {
		t.Fatalf("image search: %+v %v", hits, err)
	}
	similar, err := c.SearchSimilar(hits[0].ID, 3, nil)
	if err != nil || len(similar) != 3 || similar[0].ID == hits[0].ID {
		t.Fatalf("SearchSimilar: %+v %v", similar, err)
	}
	only, err := c.Search(q, 5, &cbir.SearchOptions{IDs: []int64{hits[2].ID}})
	if err != nil || len(only) != 1 || only[0].ID != hits[2].ID {
		t.Fatalf("ids filter: %+v %v", only, err)
	}
	prefix, err := c.Search(q, 5, &cbir.SearchOptions{URIPrefix: files[1]})
	if err != nil || len(prefix) != 1 || prefix[0].URI != files[1] {
		t.Fatalf("uri prefix filter: %+v %v", prefix, err)
	}

	if !shipped {
		t.Skip("search quality is only checked on the shipped model")
	}
	// The image's own colour throughout, and another of its kind among the next four.
	own, sameKind := label(query), false
	for _, h := range hits {
		if !strings.HasPrefix(label(h.URI), strings.Split(own, "_")[0]+"_") {
			t.Fatalf("image query %s: %+v", query, hits)
		}
		sameKind = sameKind || (h.ID != hits[0].ID && label(h.URI) == own)
	}
	if !sameKind {
		t.Fatalf("image query %s: no other %s in %+v", query, own, hits)
	}
	for _, text := range []string{"a red circle", "红色的圆形"} {
		v, err := m.EmbedText(text)
		if err != nil {
			t.Fatal(err)
		}
		hits, err := c.Search(v, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		if label(hits[0].URI) != "red_circle" {
			t.Fatalf("%q: %+v", text, hits)
		}
		for _, h := range hits {
			if !strings.HasPrefix(label(h.URI), "red_") {
				t.Fatalf("%q: %+v", text, hits)
			}
		}
	}
}

func TestBadFilesAreReportedAndGoodOnesIndexed(t *testing.T) {
	m := openModel(t)
	folder := t.TempDir()
	for _, f := range gallery(t)[:3] {
		data, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(folder, filepath.Base(f)), data, 0o644)
	}
	os.WriteFile(filepath.Join(folder, "notes.jpg"), []byte("not an image"), 0o644)
	data, _ := os.ReadFile(gallery(t)[0])
	os.WriteFile(filepath.Join(folder, "truncated.jpg"), data[:300], 0o644)
	c := newCollection(t, m)
	r, err := c.IngestDir(m, folder, nil)
	if err != nil || r.Added != 3 || r.Failed != 2 || len(r.Failures) != 2 {
		t.Fatalf("IngestDir: %+v %v", r, err)
	}
	var bad []string
	for _, f := range r.Failures {
		if !errors.Is(f.Err, cbir.ErrImage) || f.Err.Message == "" {
			t.Fatalf("failure %s: %v", f.Path, f.Err)
		}
		bad = append(bad, filepath.Base(f.Path))
	}
	sort.Strings(bad)
	if strings.Join(bad, ",") != "notes.jpg,truncated.jpg" {
		t.Fatalf("failures %v", bad)
	}
}

func TestACollectionRefusesAnotherModel(t *testing.T) {
	m := openModel(t)
	dir := t.TempDir()
	c, err := cbir.OpenCollection(filepath.Join(dir, "c"), cbir.OptionsFor(m))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	other := &cbir.CollectionOptions{Fingerprint: "sha256:" + strings.Repeat("0", 64)}
	if _, err := cbir.OpenCollection(filepath.Join(dir, "c"), other); !errors.Is(err, cbir.ErrMismatch) {
		t.Fatalf("other fingerprint: %v", err)
	}
	foreign, err := cbir.OpenCollection(filepath.Join(dir, "d"), &cbir.CollectionOptions{
		Create: true, Dim: m.Dim(), Fingerprint: other.Fingerprint})
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	if _, err := foreign.IngestDir(m, galleryDir(t), nil); !errors.Is(err, cbir.ErrMismatch) {
		t.Fatalf("ingest with another model: %v", err)
	}
	if _, err := cbir.OpenCollection(filepath.Join(dir, "absent"), nil); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("absent collection: %v", err)
	}
}

func TestClosedHandlesReturnErrClosed(t *testing.T) {
	m := openModel(t)
	c := newCollection(t, m)
	v, _ := m.EmbedText("a red circle")
	if _, err := c.Add([]cbir.Item{{URI: "a"}}, [][]float32{v}); err != nil {
		t.Fatal(err)
	}
	// Searches in flight finish before Close releases the handle.
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 8; j++ {
				if _, err := c.Search(v, 1, nil); err != nil && !errors.Is(err, cbir.ErrClosed) {
					errs <- err
				}
			}
		}()
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if _, err := c.Count(); !errors.Is(err, cbir.ErrClosed) {
		t.Fatalf("Count after Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	m.Close()
	if _, err := m.EmbedText("x"); !errors.Is(err, cbir.ErrClosed) {
		t.Fatalf("EmbedText after Close: %v", err)
	}
}

func TestItemsRoundTrip(t *testing.T) {
	m := openModel(t)
	c := newCollection(t, m)
	v, err := m.EmbedTexts([]string{"a red circle", "a blue square", "a green star"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.Add([]cbir.Item{{URI: "a"}, {URI: "b", Payload: `{"n": 2}`, Width: 5}, {URI: "c"}}, v)
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Get(ids[1])
	if err != nil || b.URI != "b" || b.Payload != `{"n": 2}` || b.Width != 5 {
		t.Fatalf("Get: %+v %v", b, err)
	}
	if id, err := c.Find("c"); err != nil || id != ids[2] {
		t.Fatalf("Find: %d %v", id, err)
	}
	if _, err := c.Add([]cbir.Item{{URI: "a"}}, v[:1]); !errors.Is(err, cbir.ErrExists) {
		t.Fatalf("duplicate uri: %v", err)
	}
	if up, err := c.Upsert([]cbir.Item{{URI: "a"}}, v[2:]); err != nil || up[0] != ids[0] {
		t.Fatalf("Upsert: %v %v", up, err)
	}
	if _, err := c.Add([]cbir.Item{{URI: "d"}}, [][]float32{{1, 2, 3}}); !errors.Is(err, cbir.ErrMismatch) {
		t.Fatalf("wrong dim: %v", err)
	}
	all, err := c.IDs()
	if err != nil || len(all) != 3 {
		t.Fatalf("IDs: %v %v", all, err)
	}
	if n, err := c.Remove([]int64{ids[1], 999}); err != nil || n != 1 {
		t.Fatalf("Remove: %d %v", n, err)
	}
	if _, err := c.Get(ids[1]); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("Get removed: %v", err)
	}
}

func TestProgressCanCancelAndAPanicComesBack(t *testing.T) {
	m := openModel(t)
	c := newCollection(t, m)
	folder := t.TempDir()
	const n = 12 // more than one batch
	for _, f := range gallery(t)[:n] {
		data, _ := os.ReadFile(f)
		os.WriteFile(filepath.Join(folder, filepath.Base(f)), data, 0o644)
	}
	r, err := c.IngestDir(m, folder, &cbir.IngestOptions{Progress: func(cbir.Progress) bool { return false }})
	if count, _ := c.Count(); err != nil || !r.Cancelled || r.Added >= n || count != r.Added {
		t.Fatalf("cancelled ingest: %+v %v", r, err)
	}
	func() {
		defer func() {
			if p := recover(); p != "stop here" {
				t.Fatalf("recovered %v", p)
			}
		}()
		c.IngestDir(m, folder, &cbir.IngestOptions{Progress: func(cbir.Progress) bool { panic("stop here") }})
		t.Fatal("the panic did not come back")
	}()
	if r, err := c.IngestDir(m, folder, nil); err != nil || r.Cancelled {
		t.Fatalf("after the panic: %+v %v", r, err)
	}
	if count, _ := c.Count(); count != n {
		t.Fatalf("count %d, want %d", count, n)
	}
}

func TestLogHandlerReceivesTheLibraryWarnings(t *testing.T) {
	m := openModel(t)
	path := filepath.Join(t.TempDir(), "c")
	c, err := cbir.OpenCollection(path, cbir.OptionsFor(m))
	if err != nil {
		t.Fatal(err)
	}
	vec := make([]float32, m.Dim())
	vec[0] = 1
	if _, err := c.Add([]cbir.Item{{URI: "x"}}, [][]float32{vec}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	// The index is a cache: cbir rebuilds it from the catalog when it is gone, and warns.
	reopen := func() {
		snapshots, _ := filepath.Glob(filepath.Join(path, "index*"))
		for _, s := range snapshots {
			os.Remove(s)
		}
		c, err := cbir.OpenCollection(path, cbir.OptionsFor(m))
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.Count(); err != nil || n != 1 {
			t.Fatalf("Count = %d, %v", n, err)
		}
		c.Close()
	}
	defer cbir.SetLogHandler(cbir.LogError, nil)

	// A handler that panics must not take the process down.
	cbir.SetLogHandler(cbir.LogInfo, func(cbir.LogLevel, string) { panic("a handler's bug") })
	reopen()

	var mu sync.Mutex
	var got []string
	cbir.SetLogHandler(cbir.LogInfo, func(level cbir.LogLevel, message string) {
		mu.Lock()
		defer mu.Unlock()
		if level == cbir.LogWarn {
			got = append(got, message)
		}
	})
	reopen()
	mu.Lock()
	warned := len(got)
	found := warned > 0 && strings.Contains(strings.Join(got, "\n"), "rebuilding the index")
	mu.Unlock()
	if !found {
		t.Fatalf("no warning about rebuilding the index: %q", got)
	}
	cbir.SetLogHandler(cbir.LogError, nil) // removed: nothing arrives any more
	reopen()
	if len(got) != warned {
		t.Fatalf("a removed handler still got %q", got[warned:])
	}
}

func TestTokenizersGiveTheVocabularysIDs(t *testing.T) {
	m := openModel(t)
	data, err := os.ReadFile(filepath.Join(m.Info().Path, "vocab.txt"))
	if err != nil {
		t.Fatal(err)
	}
	vocab := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	id := func(w string) int64 {
		for i, v := range vocab {
			if v == w {
				return int64(i)
			}
		}
		t.Fatalf("%q is not in the vocabulary", w)
		return -1
	}
	own, err := m.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	opened, err := cbir.OpenTokenizer(m.Info().Path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	for _, tok := range []*cbir.Tokenizer{own, opened} {
		if tok.VocabSize() != len(vocab) {
			t.Fatalf("VocabSize %d, vocab.txt has %d", tok.VocabSize(), len(vocab))
		}
		if w, ok := tok.Token(0); !ok || w != vocab[0] {
			t.Fatalf("Token(0) = %q", w)
		}
		if _, ok := tok.Token(int64(len(vocab))); ok {
			t.Fatal("a token past the vocabulary")
		}
		// Lower-cased as Chinese-CLIP does; words the tiny vocabulary lacks become [UNK].
		var words []string
		want := []int64{id("[CLS]")}
		for _, w := range []string{"a", "red", "circle"} {
			if !strings.Contains("\n"+string(data), "\n"+w+"\n") {
				w = "[UNK]"
			}
			words = append(words, w)
			want = append(want, id(w))
		}
		want = append(want, id("[SEP]"), id("[PAD]"), id("[PAD]"), id("[PAD]"))
		got, err := tok.Tokens("A Red Circle")
		if err != nil || strings.Join(got, " ") != strings.Join(words, " ") {
			t.Fatalf("Tokens = %q, %v; want %q", got, err, words)
		}
		r, err := tok.Tokenize([]string{"a red circle", ""}, 8)
		if err != nil || r.Lengths[0] != 5 || r.Lengths[1] != 2 {
			t.Fatalf("Tokenize: %v %v", r, err)
		}
		for i := range want {
			if r.IDs[0][i] != want[i] {
				t.Fatalf("ids %v, want %v", r.IDs[0], want)
			}
		}
		if _, err := tok.Tokenize([]string{"x"}, 1); !errors.Is(err, cbir.ErrInvalid) {
			t.Fatalf("context length 1: %v", err)
		}
	}
	if _, err := cbir.OpenTokenizer(filepath.Join(t.TempDir(), "none.txt"), true); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("a missing vocabulary: %v", err)
	}
	// A lent tokenizer stops with its model.
	m2, err := cbir.OpenModel(m.Info().Path, nil)
	if err != nil {
		t.Fatal(err)
	}
	lent, _ := m2.Tokenizer()
	m2.Close()
	if _, err := lent.Tokens("red"); !errors.Is(err, cbir.ErrClosed) {
		t.Fatalf("a closed model's tokenizer: %v", err)
	}
}

func TestAttributesPhotoFactsDuplicatesAndCompositeQueries(t *testing.T) {
	m := openModel(t)
	c := newCollection(t, m)
	v, err := m.EmbedTexts([]string{"a red circle", "a blue square", "a green star"})
	if err != nil {
		t.Fatal(err)
	}
	ids, err := c.Add([]cbir.Item{{URI: "a"}, {URI: "b"}, {URI: "a-copy"}}, [][]float32{v[0], v[1], v[0]})
	if err != nil {
		t.Fatal(err)
	}
	seen := time.Date(2024, 7, 14, 16, 30, 0, 0, time.UTC)
	changed, err := c.SetAttrs(map[int64]map[string]interface{}{
		ids[0]: {"album": "Rome", "stars": 5, "fav": true, "seen": seen, "w": 0.5},
		ids[1]: {"stars": int64(2)},
	})
	if err != nil || changed != 6 {
		t.Fatalf("SetAttrs: %d %v", changed, err)
	}
	got, err := c.Attrs(ids[0])
	if err != nil || got["album"] != "Rome" || got["stars"] != int64(5) || got["fav"] != true ||
		!got["seen"].(time.Time).Equal(seen) || got["w"] != 0.5 {
		t.Fatalf("Attrs: %v %v", got, err)
	}
	hits, err := c.Search(v[1], 3, &cbir.SearchOptions{Where: "attr.stars >= 4"})
	if err != nil || len(hits) != 1 || hits[0].ID != ids[0] {
		t.Fatalf("where attr.stars >= 4: %v %v", hits, err)
	}
	if _, err := c.SetAttrs(map[int64]map[string]interface{}{999: {"x": 1}}); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("SetAttrs on a missing item: %v", err)
	}
	if _, err := c.SetAttrs(map[int64]map[string]interface{}{ids[0]: {"x": []int{1}}}); !errors.Is(err, cbir.ErrInvalid) {
		t.Fatalf("SetAttrs with a slice: %v", err)
	}
	if n, err := c.SetAttrs(map[int64]map[string]interface{}{ids[0]: {"stars": nil}}); err != nil || n != 1 {
		t.Fatalf("remove an attribute: %d %v", n, err)
	}
	if p, err := c.Photo(ids[0]); err != nil || p.Format != "" || p.Taken != nil || p.Lat != nil {
		t.Fatalf("Photo of an added item: %+v %v", p, err)
	}
	groups, err := c.Duplicates(0.999, nil)
	if err != nil || len(groups) != 1 || len(groups[0]) != 2 || groups[0][0] != ids[0] || groups[0][1] != ids[2] {
		t.Fatalf("Duplicates: %v %v", groups, err)
	}
	// A composite query: the weighted sum of its parts' unit vectors, normalised.
	item := ids[1]
	q, err := cbir.ComposeQuery([]cbir.QueryPart{{Text: "a red circle", Weight: 1},
		{Item: &item, Weight: -0.5}, {Vector: v[2], Weight: 0.25}}, m, c)
	if err != nil {
		t.Fatal(err)
	}
	var norm float64
	for d := range q {
		want := float64(v[0][d]) - 0.5*float64(v[1][d]) + 0.25*float64(v[2][d])
		norm += want * want
	}
	for d := range q {
		want := (float64(v[0][d]) - 0.5*float64(v[1][d]) + 0.25*float64(v[2][d])) / math.Sqrt(norm)
		if math.Abs(float64(q[d])-want) > 1e-5 {
			t.Fatalf("ComposeQuery[%d] = %v, want %v", d, q[d], want)
		}
	}
	if _, err := cbir.ComposeQuery([]cbir.QueryPart{{Text: "x", Weight: 1}, {Text: "x", Weight: -1}}, m, nil); !errors.Is(err, cbir.ErrInvalid) {
		t.Fatalf("parts that cancel out: %v", err)
	}
}

func TestTwoVectorSpacesEachSearchedOnItsOwn(t *testing.T) {
	dir := t.TempDir()
	coll, err := cbir.OpenCollection(filepath.Join(dir, "c"), &cbir.CollectionOptions{
		Create: true, Dim: 4, Fingerprint: "clip-test", IndexSpec: "flat", Space: "clip"})
	if err != nil {
		t.Fatal(err)
	}
	defer coll.Close()
	if err := coll.AddSpace("dino", 3, "dino-test", "flat"); err != nil {
		t.Fatal(err)
	}
	if err := coll.AddSpace("dino", 3, "dino-test", ""); !errors.Is(err, cbir.ErrExists) {
		t.Fatalf("a second space of the name: %v", err)
	}
	// In clip, a and b point the same way; in dino, a and c do.
	items := []cbir.Item{{URI: "a"}, {URI: "b"}, {URI: "c"}}
	ids, err := coll.AddSpaces(items, []cbir.SpaceVectors{
		{Space: "", Vectors: [][]float32{{1, 0, 0, 0}, {0.9, 0.1, 0, 0}, {0, 0, 1, 0}}},
		{Space: "dino", Vectors: [][]float32{{0, 1, 0}, {1, 0, 0}, {0, 0.9, 0.1}}},
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	for space, want := range map[string]int64{"clip": ids[1], "dino": ids[2]} {
		hits, err := coll.SearchSimilar(ids[0], 1, &cbir.SearchOptions{Space: space})
		if err != nil || hits[0].ID != want {
			t.Fatalf("nearest to a in %s: %v %v, want %d", space, hits, err, want)
		}
	}
	hits, err := coll.Search([]float32{0, 0.9, 0.1}, 1, &cbir.SearchOptions{Space: "dino"})
	if err != nil || hits[0].ID != ids[2] || hits[0].Score < 0.999 {
		t.Fatalf("search in dino: %v %v", hits, err)
	}
	if _, err := coll.Search([]float32{1, 0, 0}, 1, &cbir.SearchOptions{Space: "nope"}); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("an unknown space: %v", err)
	}
	if err := coll.AddSpace("late", 2, "late-test", "flat"); err != nil {
		t.Fatal(err)
	}
	if err := coll.SetSpaceVectors("late", ids[:1], [][]float32{{1, 0}}); err != nil {
		t.Fatal(err)
	}
	if err := coll.SetSpaceVectors("late", []int64{ids[1], 999}, [][]float32{{1, 0}, {0, 1}}); !errors.Is(err, cbir.ErrNotFound) {
		t.Fatalf("an unknown id: %v", err)
	}
	v, err := coll.SpaceVector(ids[2], "dino")
	if err != nil || math.Abs(float64(v[1])-0.9/math.Sqrt(0.82)) > 1e-5 {
		t.Fatalf("stored vector: %v %v", v, err)
	}
	if err := coll.RebuildSpace("dino", "hnsw:M=8"); err != nil {
		t.Fatal(err)
	}
	spaces, err := coll.Spaces()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range spaces {
		got = append(got, s.Name+":"+strings.Repeat("x", int(s.Count)))
	}
	if strings.Join(got, " ") != "clip:xxx dino:xxx late:x" || !spaces[0].First || !strings.HasPrefix(spaces[1].EffectiveSpec, "hnsw") {
		t.Fatalf("spaces: %v %+v", got, spaces)
	}
}
