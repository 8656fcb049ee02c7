package tether_test

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/tether-iot/tether"

// layer orders the repository's packages: a package may import only
// packages of a lower layer (and the standard library and third-party
// modules the rules below allow). Components share a layer, so they cannot
// import each other; internal/server wires them.
func layer(pkg string) (int, bool) {
	rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
	switch {
	case rel == "":
		return 0, true // the vocabulary
	case rel == "sas":
		return 1, true
	case rel == "device":
		return 2, true
	case rel == "internal/wire", strings.HasPrefix(rel, "internal/kql/syntax"):
		return 2, true // leaf helpers
	case rel == "internal/hubclient":
		return 3, true
	case rel == "internal/server":
		return 5, true
	case rel == "internal/hubtest", strings.HasPrefix(rel, "cmd/"), rel == "interop", strings.HasPrefix(rel, "examples/"):
		return 6, true
	case strings.HasPrefix(rel, "internal/"):
		return 4, true // components
	}
	return 0, false
}

type goPackage struct {
	path    string
	doc     string
	imports []string
	std     bool
}

func goList(t *testing.T, args ...string) []goPackage {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}}\t{{.Standard}}\t{{.Doc}}\t{{join .Imports \" \"}}"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var pkgs []goPackage
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.SplitN(line, "\t", 4)
		pkgs = append(pkgs, goPackage{path: f[0], std: f[1] == "true", doc: f[2], imports: strings.Fields(f[3])})
	}
	return pkgs
}

func isStd(path string) bool { return !strings.Contains(strings.Split(path, "/")[0], ".") }

// allowedThirdParty lists, per package, the modules it may use beyond the
// standard library; packages not listed may use any.
var allowedThirdParty = map[string][]string{
	module:                         {},
	module + "/sas":                {},
	module + "/device":             {"github.com/eclipse/paho.mqtt.golang"},
	module + "/internal/wire":      {},
	module + "/internal/hubclient": {},
}

func TestImportsPointDown(t *testing.T) {
	for _, p := range goList(t, "./...") {
		from, ok := layer(p.path)
		if !ok {
			t.Errorf("package %s has no layer in deps_test.go; add it", p.path)
			continue
		}
		allowed, restricted := allowedThirdParty[p.path]
		for _, imp := range p.imports {
			switch {
			case isStd(imp):
			case strings.HasPrefix(imp, module):
				to, _ := layer(imp)
				sub := strings.HasPrefix(imp, p.path+"/")
				if to >= from && !sub {
					t.Errorf("%s (layer %d) imports %s (layer %d): imports must point down", p.path, from, imp, to)
				}
				if strings.HasSuffix(imp, "/internal/hubtest") || strings.Contains(imp, "/cmd/") {
					t.Errorf("%s imports %s, which only tests may use", p.path, imp)
				}
			case restricted:
				okMod := false
				for _, a := range allowed {
					okMod = okMod || strings.HasPrefix(imp, a)
				}
				if !okMod {
					t.Errorf("%s imports %s; it may use only the standard library%s", p.path, imp, strings.Join(append([]string{""}, allowed...), " and "))
				}
			}
		}
	}
}

func TestEveryPackageHasAComment(t *testing.T) {
	for _, p := range goList(t, "./...") {
		if strings.TrimSpace(p.doc) == "" {
			t.Errorf("package %s has no package comment", p.path)
		}
	}
}
