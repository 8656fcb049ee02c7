package portal

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestBundleUpToDate checks that the committed bundle was built from the
// committed sources: web/build.sh records the hash of every source file
// in assets/SOURCES.sha256. After changing web/, run web/build.sh.
func TestBundleUpToDate(t *testing.T) {
	web := filepath.Join("..", "..", "web")
	want := map[string]string{}
	f, err := assets.Open("assets/SOURCES.sha256")
	if err != nil {
		t.Fatalf("assets/SOURCES.sha256 is missing: run web/build.sh")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if ok {
			want[name] = sum
		}
	}
	got := map[string]string{}
	for _, name := range []string{"package-lock.json", "build.sh"} {
		got[name] = hashFile(t, filepath.Join(web, name))
	}
	filepath.WalkDir(filepath.Join(web, "src"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(web, p)
			got[filepath.ToSlash(rel)] = hashFile(t, p)
		}
		return err
	})
	var names []string
	for n := range got {
		names = append(names, n)
	}
	for n := range want {
		if _, ok := got[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("web/%s changed since the bundle was built (or was added or removed): run sh web/build.sh and commit internal/portal/assets", n)
		}
	}
	for _, name := range []string{"app.js", "app.css", "index.html"} {
		if b, err := assets.ReadFile("assets/" + name); err != nil || len(b) < 100 {
			t.Errorf("assets/%s missing or empty in the embedded bundle", name)
		}
	}
}

func hashFile(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
