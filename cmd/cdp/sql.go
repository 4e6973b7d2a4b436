package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"cdp/cmd/cdp/render"
)

func newSQLCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   `sql "SELECT …"`,
		Short: "Run SQL on the warehouse and print the result (table, csv or json)",
		Example: `  cdp sql "SELECT entity, count(*) FROM ops.loads GROUP BY ALL"
  cdp sql --format csv "SELECT * FROM raw.credit_loans LIMIT 100" > loans.csv
  echo "SELECT 42" | cdp sql -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := args[0]
			if q == "-" {
				b, err := io.ReadAll(os.Stdin)
				if err != nil {
					return err
				}
				q = string(b)
			}
			f := render.Format(format)
			if f != render.Table && f != render.CSV && f != render.JSON {
				return fmt.Errorf("--format %q: want table, csv or json", format)
			}
			_, w, err := g.openProject(cmd.Context())
			if err != nil {
				return err
			}
			defer w.Close()
			rows, err := w.DB().QueryContext(cmd.Context(), q)
			if err != nil {
				return fmt.Errorf("query: %w", err)
			}
			defer rows.Close()
			_, err = render.Rows(cmd.OutOrStdout(), rows, f)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table | csv | json")
	return cmd
}
