package forward

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"
)

// mp builds msgpack vectors by hand, byte by byte, so that tests do not
// depend on an encoder that could share the decoder's mistakes.
type mp []byte

func (m mp) arr(n int) mp { return appendArray(m, n) }
func (m mp) arr32(n uint32) mp {
	return binary.BigEndian.AppendUint32(append(m, 0xdd), n)
}
func (m mp) mapN(n int) mp      { return appendMap(m, n) }
func (m mp) str(s string) mp    { return appendStr(m, s) }
func (m mp) bin(b []byte) mp    { return appendBin(m, b) }
func (m mp) boolean(v bool) mp  { return appendBool(m, v) }
func (m mp) null() mp           { return append(m, 0xc0) }
func (m mp) raw(b ...byte) mp   { return append(m, b...) }
func (m mp) u32(v uint32) mp    { return binary.BigEndian.AppendUint32(append(m, 0xce), v) }
func (m mp) i8(v int8) mp       { return append(m, 0xd0, byte(v)) }
func (m mp) f64(bits uint64) mp { return binary.BigEndian.AppendUint64(append(m, 0xcb), bits) }
func (m mp) fixint(v uint8) mp  { return append(m, v&0x7f) }
func (m mp) kv(k, v string) mp  { return m.str(k).str(v) }
func (m mp) chunk(c string) mp  { return m.mapN(1).kv("chunk", c) }
func (m mp) eventTime(sec, nsec uint32) mp {
	m = append(m, 0xd7, 0x00)
	m = binary.BigEndian.AppendUint32(m, sec)
	return binary.BigEndian.AppendUint32(m, nsec)
}

func gz(t testing.TB, p []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(p); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// entry is one packed [time, {"message": msg}] entry.
func entry(sec uint32, msg string) mp {
	return mp{}.arr(2).u32(sec).mapN(1).kv("message", msg)
}

func cat(parts ...mp) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}
