package pgaudit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
)

// maxLine bounds one physical line. pgAudit parameters have no length limit
// (70 KB lines are real), but a line beyond this is garbage or an attack and
// is returned cut, with tooLong set, so memory stays bounded.
const maxLine = 32 << 20

// lineReader returns lines without their '\n', of any length up to maxLine.
// '\r' is kept: it can be part of a logged value.
type lineReader struct {
	br      *bufio.Reader
	long    []byte
	n       int64 // number of the line last returned, 1-based
	partial bool  // the line last returned had no '\n' (end of input)
	tooLong bool  // the line last returned was cut at maxLine
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, 256<<10)}
}

// next returns the next line; it is valid until the following call.
func (l *lineReader) next() ([]byte, error) {
	l.partial, l.tooLong = false, false
	b, err := l.br.ReadSlice('\n')
	if err == nil {
		l.n++
		return b[:len(b)-1], nil
	}
	if errors.Is(err, bufio.ErrBufferFull) {
		l.long = append(l.long[:0], b...)
		for {
			b, err = l.br.ReadSlice('\n')
			if len(l.long)+len(b) > maxLine {
				l.tooLong = true
			} else {
				l.long = append(l.long, b...)
			}
			if err == nil {
				l.n++
				if !l.tooLong {
					return l.long[:len(l.long)-1], nil
				}
				return l.long, nil
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				break
			}
		}
		b = l.long
	}
	if err == io.EOF {
		if len(b) == 0 {
			return nil, io.EOF
		}
		l.n++
		l.partial = true
		return b, nil
	}
	return nil, fmt.Errorf("read line %d: %w", l.n+1, err)
}
