package pipeline

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"

	"cdp/connectors/contract"
	"cdp/connectors/files"
	"cdp/connectors/mapping"
	"cdp/pipeline/config"
)

// SuggestSample is how many data lines a suggestion reads.
const SuggestSample = 1000

// SuggestMapping reads a file's header (on line headerLine, after any
// banner) and up to SuggestSample data lines with the feed's encoding and
// delimiter, and proposes a mapping onto the entity's contract.
func SuggestMapping(p *Project, feed, entity, path string, headerLine int) (*mapping.SuggestReport, error) {
	if headerLine < 1 {
		return nil, fmt.Errorf("the header line is 1 or more, not %d", headerLine)
	}
	f, ok := p.Feed(feed)
	if !ok {
		return nil, fmt.Errorf("no feed %q in %s", feed, p.Path)
	}
	if f.Kind != config.KindFiles {
		return nil, fmt.Errorf("feed %s reads Kafka, not files", feed)
	}
	e, err := p.FeedContracts().Lookup(f.Contract, entity)
	if err != nil {
		return nil, err
	}
	format := e.Format
	if t := f.TextFormat(); t != "" && e.Format != contract.Parquet && e.Format != contract.Fixed {
		format = t
	}
	if format == contract.XLSX {
		rows, err := files.SheetRows(path, headerLine+SuggestSample)
		if err != nil {
			return nil, err
		}
		if len(rows) < headerLine {
			return nil, fmt.Errorf("%s: no header on row %d", path, headerLine)
		}
		rows = rows[headerLine-1:]
		return mapping.Suggest(e, rows[0], rows[1:]), nil
	}
	if format != contract.CSV && format != contract.Delimited {
		return nil, fmt.Errorf("suggest reads csv, delimited and xlsx files with a header; %s is %s", e.ID(), format)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var r io.Reader = fh
	if f.Encoding == "gbk" || f.Encoding == "gb18030" {
		r = simplifiedchinese.GB18030.NewDecoder().Reader(fh)
	}
	br := bufio.NewReader(r)
	var lines []string
	for n := 1; len(lines) <= SuggestSample; n++ {
		line, err := br.ReadString('\n')
		if n >= headerLine && line != "" {
			lines = append(lines, strings.TrimRight(line, "\r\n"))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, n, err)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no header on line %d", path, headerLine)
	}
	lines[0] = strings.TrimPrefix(lines[0], "\ufeff")
	var recs [][]string
	if format == contract.CSV {
		cr := csv.NewReader(bytes.NewReader([]byte(strings.Join(lines, "\n"))))
		cr.Comma, cr.LazyQuotes, cr.FieldsPerRecord = rune(f.Delimiter[0]), true, -1
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				continue // a broken line: the other samples decide
			}
			recs = append(recs, rec)
		}
	} else {
		for _, l := range lines {
			recs = append(recs, strings.Split(l, f.Delimiter))
		}
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: no header", path)
	}
	return mapping.Suggest(e, recs[0], recs[1:]), nil
}
