package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tether-iot/tether"
)

func policyNotFound(name string) error {
	return &tether.Error{Kind: tether.KindNotFound, Code: tether.NotFound, Message: fmt.Sprintf("no shared access policy named %q", name)}
}

// Policies returns the shared access policies ordered by name.
func (s *Store) Policies(ctx context.Context) ([]tether.Policy, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, primary_key, secondary_key, rights FROM policies ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	defer rows.Close()
	var ps []tether.Policy
	for rows.Next() {
		p, err := scanPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("list policies: %w", err)
		}
		ps = append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return ps, nil
}

// Policy returns the shared access policy with the given name.
func (s *Store) Policy(ctx context.Context, name string) (tether.Policy, error) {
	p, err := scanPolicy(s.r.QueryRowContext(ctx,
		`SELECT name, primary_key, secondary_key, rights FROM policies WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return tether.Policy{}, policyNotFound(name)
	}
	if err != nil {
		return tether.Policy{}, fmt.Errorf("read policy %q: %w", name, err)
	}
	return p, nil
}

// PutPolicy inserts p, or replaces the policy of the same name.
func (s *Store) PutPolicy(ctx context.Context, p tether.Policy) error {
	if p.Name == "" {
		return tether.Errorf(tether.ArgumentInvalid, "shared access policy name is empty")
	}
	_, err := s.w.ExecContext(ctx, `INSERT INTO policies (name, primary_key, secondary_key, rights)
		VALUES (?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET
		primary_key = excluded.primary_key, secondary_key = excluded.secondary_key, rights = excluded.rights`,
		p.Name, p.PrimaryKey.Reveal(), p.SecondaryKey.Reveal(), int64(p.Rights))
	if err != nil {
		return fmt.Errorf("put policy %q: %w", p.Name, err)
	}
	return nil
}

// DeletePolicy deletes the named policy. A missing policy is a not-found
// error, the same as [Store.Policy] returns.
func (s *Store) DeletePolicy(ctx context.Context, name string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM policies WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("delete policy %q: %w", name, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("delete policy %q: %w", name, err)
	} else if n == 0 {
		return policyNotFound(name)
	}
	return nil
}

func scanPolicy(sc scanner) (tether.Policy, error) {
	var (
		p                  tether.Policy
		primary, secondary string
		rights             int64
	)
	if err := sc.Scan(&p.Name, &primary, &secondary, &rights); err != nil {
		return tether.Policy{}, err
	}
	p.PrimaryKey, p.SecondaryKey, p.Rights = tether.Secret(primary), tether.Secret(secondary), tether.Rights(rights)
	return p, nil
}
