package synthbank

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"cdp/connectors/contract"
)

// Arrow types of the wealth feed's Parquet columns.
var (
	timestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
)

// arrowSchema derives an entity's Arrow schema from the contract: strings are
// utf8, dates date32, money decimal128(18,2), timestamps timestamp[us, UTC];
// only required columns are non-nullable.
func arrowSchema(e *contract.Entity) *arrow.Schema {
	fields := make([]arrow.Field, len(e.Columns))
	for i, c := range e.Columns {
		var t arrow.DataType
		switch c.Type {
		case contract.Date:
			t = arrow.FixedWidthTypes.Date32
		case contract.Decimal:
			t = c.ArrowType()
		case contract.Timestamp:
			t = timestampType
		default:
			t = arrow.BinaryTypes.String
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: !c.Required}
	}
	return arrow.NewSchema(fields, nil)
}

const parquetRowGroup = 1 << 16

// parquetFile writes one Parquet data file (snappy) through a dataFile, so the
// md5 and control file work as for the text feeds.
type parquetFile struct {
	df *dataFile
	fw *pqarrow.FileWriter
	rb *array.RecordBuilder
	n  int
}

func newParquetFile(df *dataFile, e *contract.Entity) (*parquetFile, error) {
	schema := arrowSchema(e)
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Snappy))
	fw, err := pqarrow.NewFileWriter(schema, df.w, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return nil, err
	}
	return &parquetFile{df: df, fw: fw, rb: array.NewRecordBuilder(memory.DefaultAllocator, schema)}, nil
}

func (pf *parquetFile) str(i int, s string) {
	b := pf.rb.Field(i).(*array.StringBuilder)
	if s == "" {
		b.AppendNull()
	} else {
		b.Append(s)
	}
}

func (pf *parquetFile) date(i int, d day) {
	b := pf.rb.Field(i).(*array.Date32Builder)
	if d == noDay {
		b.AppendNull()
	} else {
		b.Append(arrow.Date32(d))
	}
}

func (pf *parquetFile) money(i int, cents int64) {
	pf.rb.Field(i).(*array.Decimal128Builder).Append(decimal128.FromI64(cents))
}

func (pf *parquetFile) timestamp(i int, micros int64) {
	pf.rb.Field(i).(*array.TimestampBuilder).Append(arrow.Timestamp(micros))
}

// endRow counts the row and flushes a row group when it is full.
func (pf *parquetFile) endRow() error {
	pf.n++
	pf.df.rows++
	if pf.n == parquetRowGroup {
		return pf.flush()
	}
	return nil
}

func (pf *parquetFile) flush() error {
	if pf.n == 0 {
		return nil
	}
	rec := pf.rb.NewRecordBatch()
	defer rec.Release()
	pf.n = 0
	return pf.fw.Write(rec)
}

// close writes the last row group and the footer; the dataFile is closed by
// the caller (which writes the control file).
func (pf *parquetFile) close() error {
	defer pf.rb.Release()
	if err := pf.flush(); err != nil {
		return err
	}
	return pf.fw.Close()
}

// parquetName is the file written for an entity's business date: the
// contract's folder pattern with the single part file "part-00000.parquet".
func parquetName(e *contract.Entity, date string) string {
	return e.Feed + "/" + strings.Replace(e.FileName(date), "*", "part-00000", 1)
}
