package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// commandDocsDir is where the command reference lives, from the repository
// root (make docs writes it; a test keeps it current).
const commandDocsDir = "docs/commands"

func newDocsCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:    "docs --out DIR",
		Short:  "Write the command reference as Markdown, one file per command (make docs)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := writeCommandDocs(cmd.Root(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "command reference written to %s\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", commandDocsDir, "folder to write into (its .md files are replaced)")
	return cmd
}

// writeCommandDocs writes the reference of root and every command under
// it into dir, replacing the Markdown files there. The pages carry no date,
// so the same CLI always writes the same bytes.
func writeCommandDocs(root *cobra.Command, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, err := filepath.Glob(filepath.Join(dir, "*.md"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	var noDate func(*cobra.Command)
	noDate = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			noDate(sub)
		}
	}
	noDate(root)
	if err := doc.GenMarkdownTree(root, dir); err != nil {
		return fmt.Errorf("command reference: %w", err)
	}
	return nil
}
