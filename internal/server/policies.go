package server

import (
	"context"
	"io"

	"github.com/tether-iot/tether"
	"github.com/tether-iot/tether/internal/store"
	"github.com/tether-iot/tether/sas"
)

// ensurePolicies creates the default shared access policies that are
// missing, each with fresh random keys. Existing policies keep their keys.
func ensurePolicies(ctx context.Context, st *store.Store, rnd io.Reader) (created []string, err error) {
	have, err := st.Policies(ctx)
	if err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	for _, p := range have {
		exists[p.Name] = true
	}
	for _, p := range tether.DefaultPolicies() {
		if exists[p.Name] {
			continue
		}
		if p.PrimaryKey, err = sas.GenerateKey(rnd); err != nil {
			return nil, err
		}
		if p.SecondaryKey, err = sas.GenerateKey(rnd); err != nil {
			return nil, err
		}
		if err := st.PutPolicy(ctx, p); err != nil {
			return nil, err
		}
		created = append(created, p.Name)
	}
	return created, nil
}
