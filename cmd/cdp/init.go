package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"cdp/pipeline"
	"cdp/pipeline/config"
)

func newInitCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Write a starter project: a commented cdp.yaml and the feed folders",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			path := filepath.Join(dir, "cdp.yaml")
			if _, err := os.Stat(path); err == nil && !force {
				return fmt.Errorf("%s exists; use --force to overwrite", path)
			}
			if err := writeProject(dir, config.StarterOptions{}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), `wrote %s
feed folders under %s; drop files there (docs/feeds.md has their contract), then:
  cdp ingest --config %s
  cdp status --config %s
`, path, filepath.Join(dir, "feeds"), path, path)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing cdp.yaml")
	return cmd
}

// writeProject writes cdp.yaml and creates every folder it names.
func writeProject(dir string, o config.StarterOptions) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(dir, "cdp.yaml")
	if err := os.WriteFile(path, config.Starter(o), 0o644); err != nil {
		return err
	}
	p, err := pipeline.LoadProject(path)
	if err != nil {
		return fmt.Errorf("the starter project does not load (a bug): %w", err)
	}
	for _, f := range p.Feeds {
		if f.Kind == config.KindFiles {
			if err := os.MkdirAll(p.Resolve(f.Path), 0o755); err != nil {
				return err
			}
		}
	}
	if t := p.Serve.Control.TokenFile; t != "" {
		return writeSecret(p.Resolve(t))
	}
	return nil
}

// writeSecret writes a random secret to path (mode 600), unless the file
// exists.
func writeSecret(path string) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}
