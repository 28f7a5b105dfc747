package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/auditlens/auditlens/store/model"
)

// eventAppender fills DuckDB data chunks of the events table directly: fixed
// width values and validity bits are written into the vectors' memory and
// strings as DuckDB string_t values, so a chunk of 2,048 rows costs a few dozen
// cgo calls instead of one per value (AppendRow makes 28 per event).
//
// Strings longer than 12 bytes are copied into pinned Go arenas that the
// string_t values point to; DuckDB's appender copies them into its own
// storage in AppendDataChunk, after which the arenas are reused.
type eventAppender struct {
	chunkWriter
	app    mapping.Appender
	types  []mapping.LogicalType
	closed bool
	chunks int // chunks appended since the appender last flushed
}

// chunkWriter fills one data chunk of the events table's columns, for the
// appender and for the parallel insert feed alike.
type chunkWriter struct {
	chunk  mapping.DataChunk
	cap    int
	rows   int
	data   [eventColumns]unsafe.Pointer
	mask   [eventColumns][]uint64
	params []string // children of the params lists of the current chunk
	arenas arenaSet
	ref    []byte // scratch for an object_ref made of the object's ref and a line
}

// Columns of the events table, in the order of migration 0001.
const (
	colEventID = iota
	colObjectID
	colSource
	colCluster
	colInstance
	colLogTime
	colSessionID
	colStatementID
	colSubstatementID
	colAuditType
	colClass
	colCommand
	colObjectType
	colObjectName
	colStatement
	colParams
	colRowCount
	colDatabaseName
	colUserName
	colApplicationName
	colRemoteHost
	colRemotePort
	colPID
	colErrorMessage
	colExitCode
	colObjectRef
	colInternal
	colRaw
	eventColumns
)

// eventColumnTypes is what the fast path writes; the appender checks the
// table's columns against it and falls back to AppendRow if they differ
// (e.g. a later migration added a column).
var eventColumnTypes = [eventColumns]mapping.Type{
	mapping.TypeBigInt, mapping.TypeBigInt, mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar,
	mapping.TypeTimestampTZ, mapping.TypeVarchar, mapping.TypeBigInt, mapping.TypeBigInt, mapping.TypeVarchar,
	mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar,
	mapping.TypeList, mapping.TypeBigInt, mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeVarchar,
	mapping.TypeVarchar, mapping.TypeInteger, mapping.TypeInteger, mapping.TypeVarchar, mapping.TypeInteger,
	mapping.TypeVarchar, mapping.TypeBoolean, mapping.TypeVarchar,
}

// errNoFastPath means the chunk writer cannot be used here; the caller uses
// the database/sql appender instead.
var errNoFastPath = errors.New("chunk appender not available")

// connHandleOK reports whether duckdb.Conn starts with its C connection handle,
// as in the duckdb-go version this was written against. The fast path reads
// that handle; if a driver upgrade changes the layout it is simply not used.
var connHandleOK = startsWith[duckdb.Conn, mapping.Connection]()

// startsWith reports whether struct type T's first field has type F.
func startsWith[T, F any]() bool {
	t := reflect.TypeFor[T]()
	if t.Kind() != reflect.Struct || t.NumField() == 0 {
		return false
	}
	f := t.Field(0)
	return f.Offset == 0 && f.Type == reflect.TypeFor[F]()
}

func rawConnection(dc driver.Conn) (mapping.Connection, bool) {
	c, ok := dc.(*duckdb.Conn)
	if !ok || c == nil || !connHandleOK {
		return mapping.Connection{}, false
	}
	h := *(*mapping.Connection)(unsafe.Pointer(c))
	return h, h.Ptr != nil
}

// newEventAppender opens a chunk appender on the events table of the
// connection's current transaction, or returns errNoFastPath.
func newEventAppender(dc driver.Conn) (*eventAppender, error) {
	conn, ok := rawConnection(dc)
	if !ok {
		return nil, errNoFastPath
	}
	a := &eventAppender{}
	if mapping.AppenderCreateExt(conn, "", "", "events", &a.app) == mapping.StateError {
		err := errors.New(mapping.AppenderError(a.app))
		mapping.AppenderDestroy(&a.app)
		return nil, fmt.Errorf("appender for events: %w", err)
	}
	if int(mapping.AppenderColumnCount(a.app)) != eventColumns {
		mapping.AppenderDestroy(&a.app)
		return nil, errNoFastPath
	}
	for i := range eventColumns {
		lt := mapping.AppenderColumnType(a.app, mapping.IdxT(i))
		a.types = append(a.types, lt)
		ok := mapping.GetTypeId(lt) == eventColumnTypes[i]
		if ok && i == colParams {
			child := mapping.ListTypeChildType(lt)
			ok = mapping.GetTypeId(child) == mapping.TypeVarchar
			mapping.DestroyLogicalType(&child)
		}
		if !ok {
			a.destroy()
			return nil, errNoFastPath
		}
	}
	a.chunk = mapping.CreateDataChunk(a.types)
	a.cap = int(mapping.VectorSize())
	a.prepare()
	return a, nil
}

// prepare points the column slots at the (reset) chunk's vectors.
func (a *chunkWriter) prepare() {
	words := (a.cap + 63) / 64
	for i := range eventColumns {
		vec := mapping.DataChunkGetVector(a.chunk, mapping.IdxT(i))
		mapping.VectorEnsureValidityWritable(vec)
		a.data[i] = mapping.VectorGetData(vec)
		a.mask[i] = unsafe.Slice((*uint64)(mapping.VectorGetValidity(vec)), words)
	}
	a.rows = 0
	a.params = a.params[:0]
}

// stringT is DuckDB's string_t: the length, then either the string itself
// (up to 12 bytes) or a 4-byte prefix and a pointer to the bytes. The pointer
// is held as a uintptr: it lives in C memory, where a Go pointer store would
// go through the garbage collector's write barrier with whatever bytes were
// there before; the arena it points to is pinned instead.
type stringT struct {
	length uint32
	prefix [4]byte
	ptr    uintptr
}

const stringInline = 12

func (a *chunkWriter) setValid(col, row int, valid bool) {
	w, bit := row>>6, uint64(1)<<(row&63)
	if valid {
		a.mask[col][w] |= bit
	} else {
		a.mask[col][w] &^= bit
	}
}

// putString writes s (already valid UTF-8) as a non-NULL value.
func (a *chunkWriter) putString(dst unsafe.Pointer, s string) {
	st := (*stringT)(dst)
	n := len(s)
	st.length = uint32(n)
	if n <= stringInline {
		inl := (*[stringInline + 4]byte)(dst)[4:]
		copy(inl, s)
		clear(inl[n:])
		return
	}
	p := a.arenas.copy(s)
	copy(st.prefix[:], s[:4])
	st.ptr = uintptr(p)
}

func (a *chunkWriter) str(col, row int, s string) {
	if s == "" {
		a.setValid(col, row, false)
		return
	}
	a.setValid(col, row, true)
	a.putString(unsafe.Add(a.data[col], row*16), validUTF8(s))
}

func (a *chunkWriter) strNotNull(col, row int, s string) {
	a.setValid(col, row, true)
	a.putString(unsafe.Add(a.data[col], row*16), validUTF8(s))
}

func (a *chunkWriter) i64(col, row int, v int64) {
	a.setValid(col, row, true)
	*(*int64)(unsafe.Add(a.data[col], row*8)) = v
}

func (a *chunkWriter) i64p(col, row int, p *int64) {
	if p == nil {
		a.setValid(col, row, false)
		return
	}
	a.i64(col, row, *p)
}

func (a *chunkWriter) i32p(col, row int, p *int32) {
	if p == nil {
		a.setValid(col, row, false)
		return
	}
	a.setValid(col, row, true)
	*(*int32)(unsafe.Add(a.data[col], row*4)) = *p
}

// appendEvent adds one event, flushing the chunk to DuckDB when it is full.
func (a *eventAppender) appendEvent(eventID, objectID int64, e *model.Event) error {
	if a.rows == a.cap {
		if err := a.flushChunk(); err != nil {
			return err
		}
	}
	a.putEvent(eventID, objectID, e)
	return nil
}

// putEvent writes e as the chunk's next row; the chunk must have room.
func (a *chunkWriter) putEvent(eventID, objectID int64, e *model.Event) {
	r := a.rows
	a.i64(colEventID, r, eventID)
	a.i64(colObjectID, r, objectID)
	a.strNotNull(colSource, r, e.Source)
	a.str(colCluster, r, e.Cluster)
	a.str(colInstance, r, e.Instance)
	a.i64(colLogTime, r, e.LogTime.UnixMicro())
	a.str(colSessionID, r, e.SessionID)
	a.i64p(colStatementID, r, e.StatementID)
	a.i64p(colSubstatementID, r, e.SubstatementID)
	a.str(colAuditType, r, e.AuditType)
	a.str(colClass, r, e.Class)
	a.str(colCommand, r, e.Command)
	a.str(colObjectType, r, e.ObjectType)
	a.str(colObjectName, r, e.ObjectName)
	a.str(colStatement, r, e.Statement)
	if e.Params == nil {
		a.setValid(colParams, r, false)
	} else {
		a.setValid(colParams, r, true)
		entry := (*[2]uint64)(unsafe.Add(a.data[colParams], r*16))
		entry[0], entry[1] = uint64(len(a.params)), uint64(len(e.Params))
		a.params = append(a.params, e.Params...)
	}
	a.i64p(colRowCount, r, e.RowCount)
	a.str(colDatabaseName, r, e.DatabaseName)
	a.str(colUserName, r, e.UserName)
	a.str(colApplicationName, r, e.ApplicationName)
	a.str(colRemoteHost, r, e.RemoteHost)
	a.i32p(colRemotePort, r, e.RemotePort)
	a.i32p(colPID, r, e.PID)
	a.str(colErrorMessage, r, e.ErrorMessage)
	a.i32p(colExitCode, r, e.ExitCode)
	if e.RefLine > 0 {
		// Composed in scratch space: putString copies it into DuckDB's.
		a.ref = e.AppendRef(a.ref[:0])
		a.strNotNull(colObjectRef, r, unsafe.String(unsafe.SliceData(a.ref), len(a.ref)))
	} else {
		a.strNotNull(colObjectRef, r, e.ObjectRef)
	}
	a.setValid(colInternal, r, true)
	*(*bool)(unsafe.Add(a.data[colInternal], r)) = e.Internal
	a.setValid(colRaw, r, false) // raw: in raw_blocks
	a.rows++
}

// flushChunk hands the filled chunk to the DuckDB appender, which copies it.
func (a *eventAppender) flushChunk() error {
	if a.rows == 0 {
		return nil
	}
	if err := a.finish(); err != nil {
		return err
	}
	state := mapping.AppendDataChunk(a.app, a.chunk)
	a.arenas.reset()
	mapping.DataChunkReset(a.chunk)
	a.prepare()
	if state == mapping.StateError {
		return errors.New(mapping.AppenderError(a.app))
	}
	// The appender keeps what it is given until it flushes (by default
	// every 100 chunks); flushing every few chunks moves the rows into the
	// transaction's storage, which writes full row groups to the file, and
	// keeps a large object's memory down (a 256 MB log: peak RSS 583 → 360 MB).
	if a.chunks++; a.chunks >= flushEveryChunks {
		a.chunks = 0
		if mapping.AppenderFlush(a.app) == mapping.StateError {
			return errors.New(mapping.AppenderError(a.app))
		}
	}
	return nil
}

// finish writes the params lists' children and sets the chunk's size.
func (a *chunkWriter) finish() error {
	if len(a.params) > 0 {
		list := mapping.DataChunkGetVector(a.chunk, colParams)
		n := mapping.IdxT(len(a.params))
		if mapping.ListVectorReserve(list, n) == mapping.StateError ||
			mapping.ListVectorSetSize(list, n) == mapping.StateError {
			return errors.New("reserve params list")
		}
		child := mapping.ListVectorGetChild(list)
		mapping.VectorEnsureValidityWritable(child)
		data := mapping.VectorGetData(child)
		mask := unsafe.Slice((*uint64)(mapping.VectorGetValidity(child)), (len(a.params)+63)/64)
		for i, p := range a.params {
			mask[i>>6] |= 1 << (i & 63)
			a.putString(unsafe.Add(data, i*16), validUTF8(p))
		}
	}
	mapping.DataChunkSetSize(a.chunk, mapping.IdxT(a.rows))
	return nil
}

// flushEveryChunks: see flushChunk.
const flushEveryChunks = 8

// Close appends what is left and flushes the appender into the transaction.
func (a *eventAppender) Close() error {
	if a.closed {
		return nil
	}
	err := a.flushChunk()
	if err == nil && mapping.AppenderFlush(a.app) == mapping.StateError {
		err = errors.New(mapping.AppenderError(a.app))
	}
	if err != nil {
		mapping.AppenderClear(a.app)
	}
	a.destroy()
	return err
}

func (a *eventAppender) destroy() {
	a.closed = true
	if a.chunk.Ptr != nil {
		mapping.DestroyDataChunk(&a.chunk)
	}
	for i := range a.types {
		mapping.DestroyLogicalType(&a.types[i])
	}
	a.types = nil
	if a.app.Ptr != nil {
		mapping.AppenderDestroy(&a.app)
	}
	a.arenas.release()
}

// arenaSet holds the long strings of one chunk. Each arena is pinned while
// DuckDB memory points into it.
type arenaSet struct {
	pin    runtime.Pinner
	arenas [][]byte
	cur    int // index of the arena being filled
	off    int
	pinned bool
}

const arenaSize = 1 << 20

func (s *arenaSet) copy(str string) unsafe.Pointer {
	n := len(str)
	for {
		if s.cur < len(s.arenas) {
			ar := s.arenas[s.cur]
			if s.off+n <= len(ar) {
				if s.off == 0 {
					s.pin.Pin(&ar[0])
					s.pinned = true
				}
				p := unsafe.Pointer(&ar[s.off])
				copy(ar[s.off:], str)
				s.off += n
				return p
			}
			if s.off == 0 {
				// A string larger than this arena: give it one of its own.
				s.arenas[s.cur] = newArena(n)
				continue
			}
			s.cur++
			s.off = 0
			continue
		}
		s.arenas = append(s.arenas, newArena(n))
	}
}

// freeArenas keeps a few standard arenas between chunk writers. Each small
// object's transaction has a writer of its own, and a new 1 MB arena (which
// Go clears) for its few events was most of what syncing many small
// objects allocated.
var freeArenas = make(byteFreeList, 4)

// newArena returns an arena for a string of n bytes.
func newArena(n int) []byte {
	if n <= arenaSize {
		if ar := freeArenas.get(); ar != nil {
			return ar
		}
	}
	return make([]byte, max(n, arenaSize))
}

// reset makes the arenas reusable once DuckDB no longer points into them.
func (s *arenaSet) reset() {
	if s.pinned {
		s.pin.Unpin()
		s.pinned = false
	}
	// Keep a bounded amount of memory between chunks.
	if len(s.arenas) > 8 {
		clear(s.arenas[8:])
		s.arenas = s.arenas[:8]
	}
	s.cur, s.off = 0, 0
}

// release gives the arenas up; DuckDB no longer points into them.
func (s *arenaSet) release() {
	s.reset()
	for _, ar := range s.arenas {
		if len(ar) == arenaSize {
			freeArenas.put(ar)
		}
	}
	s.arenas = nil
}
