package findings

import (
	"context"
	"fmt"

	"github.com/auditlens/auditlens/store"
	rules "github.com/auditlens/auditlens/store/findings"
)

// storeRunner runs the rules engine on an open case file.
type storeRunner struct {
	st        *store.Store
	rulesFile string
}

// FromStore runs the built-in rules, merged with those of rulesFile when it
// is not "", over st.
func FromStore(st *store.Store, rulesFile string) Runner {
	return storeRunner{st: st, rulesFile: rulesFile}
}

var _ Runner = storeRunner{}

func (r storeRunner) Findings(ctx context.Context) ([]rules.Finding, []rules.RuleError, error) {
	set, settings, err := rules.Load(r.rulesFile)
	if err != nil {
		return nil, nil, fmt.Errorf("load rules: %w", err)
	}
	return rules.Run(ctx, r.st, rules.Options{Rules: set, Settings: settings})
}
