package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/auditlens/auditlens/store"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"auditlens": func() {
			os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
		// holdlock keeps a case file open for writing, as a long sync would.
		"holdlock": func() {
			st, err := store.Open(context.Background(), os.Args[1], store.Options{})
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			fmt.Println("holding")
			time.Sleep(30 * time.Second)
			_ = st.Close()
			os.Exit(0)
		},
	})
}

// TestScripts runs the CLI sessions in testdata/script/*.txtar. $CORPUS is the
// project's test corpus.
func TestScripts(t *testing.T) {
	corpus, err := filepath.Abs("../../testdata")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("CORPUS", corpus)
			env.Setenv("HOME", env.WorkDir)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("AWS_EC2_METADATA_DISABLED", "true")
			return nil
		},
	})
}
