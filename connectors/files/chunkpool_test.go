package files

import (
	"bytes"
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cdp/connectors/contract"
)

// A record longer than a chunk makes the splitter read into a bigger
// buffer. Once that chunk is parsed its buffer must not go back to the pool:
// the pool is where every later chunk's buffer comes from, so a pooled 2 MB
// (or, after a 40 MB record, 64 MB) buffer would silently become the chunk
// size of the next files, and 2×workers of them would be in flight.
func TestChunks_StayChunkSizeAfterARecordLongerThanAChunk(t *testing.T) {
	f := csvCustomers
	e, err := contract.Lookup("credit", "customers")
	if err != nil {
		t.Fatal(err)
	}
	h, err := mapHeader(e, bytes.Split([]byte(f.header), []byte(",")), f.file)
	if err != nil {
		t.Fatal(err)
	}
	o := textOptions{delim: ',', quoted: true, encoding: "utf-8"}
	long := f.record("T0000001", `"`+strings.Repeat("z\n", chunkSize*6/10)+`"`) + "\n" // 1.2 MB
	short, _ := f.filler(t, 3*chunkSize, "\n")
	for round := range 3 {
		// Parse a file with the long record, chunk by chunk on this
		// goroutine, as a worker does.
		p := newTextParser(e, f.file, h, o, time.UTC)
		var bytesIn atomic.Int64
		rows := int64(0)
		split := lineSplitter(strings.NewReader(long+strings.Join(short[:3], "")), ',', false, 2, &bytesIn)
		err := split(context.Background(), func(data []byte, line int64) error {
			res := p.parse(chunk{data: data, firstLine: line})
			defer res.rec.Release()
			if len(res.rejects) > 0 {
				t.Fatalf("rejects: %+v", res.rejects)
			}
			rows += res.rows
			return nil
		})
		p.release()
		if err != nil {
			t.Fatal(err)
		}
		if rows != 4 {
			t.Fatalf("round %d: %d rows, want 4", round, rows)
		}
		// The next file is cut into chunks of at most chunkSize.
		body := []byte(strings.Join(short, ""))
		starts := append(chunkStarts(t, body, ',', false, 2), len(body))
		for i := 1; i < len(starts); i++ {
			if n := starts[i] - starts[i-1]; n > chunkSize {
				t.Fatalf("round %d: chunk %d is %d bytes, more than the chunk size %d", round, i-1, n, chunkSize)
			}
		}
	}
}
