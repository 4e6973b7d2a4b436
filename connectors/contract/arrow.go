package contract

import "github.com/apache/arrow-go/v18/arrow"

// TimestampType is the Arrow type of timestamp columns as handed to the
// warehouse. DuckDB maps the contract's Arrow types onto the raw tables'
// SQL types without a cast.
var TimestampType = &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}

// ArrowType is the Arrow type a connector builds for the column.
func (c Column) ArrowType() arrow.DataType {
	switch c.Type {
	case Int:
		return arrow.PrimitiveTypes.Int64
	case Decimal:
		return &arrow.Decimal128Type{Precision: int32(c.Precision), Scale: int32(c.Scale)}
	case Date:
		return arrow.FixedWidthTypes.Date32
	case Timestamp:
		return TimestampType
	case Bool:
		return arrow.FixedWidthTypes.Boolean
	default:
		return arrow.BinaryTypes.String
	}
}

// Names of the batch columns that follow the contract's columns.
const (
	ExtraColumn = "_extra" // JSON text of unknown fields, null when none
	PosColumn   = "_pos"   // file line, or stream offset
	PartColumn  = "_part"  // stream partition (-1 for files)
)

// BatchSchema is the schema of every record batch a connector yields for the
// entity: the contract's columns in order, then _extra, _pos and _part.
func (e *Entity) BatchSchema() *arrow.Schema {
	fields := make([]arrow.Field, 0, len(e.Columns)+3)
	for _, c := range e.Columns {
		fields = append(fields, arrow.Field{Name: c.Name, Type: c.ArrowType(), Nullable: true})
	}
	fields = append(fields,
		arrow.Field{Name: ExtraColumn, Type: arrow.BinaryTypes.String, Nullable: true},
		arrow.Field{Name: PosColumn, Type: arrow.PrimitiveTypes.Int64},
		arrow.Field{Name: PartColumn, Type: arrow.PrimitiveTypes.Int32},
	)
	return arrow.NewSchema(fields, nil)
}
