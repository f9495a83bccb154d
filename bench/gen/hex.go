package gen

const hexDigits = "0123456789abcdef"

// appendHex appends the 32 hex digits of hi and lo.
func appendHex(dst []byte, hi, lo uint64) []byte {
	for _, v := range [2]uint64{hi, lo} {
		for shift := 60; shift >= 0; shift -= 4 {
			dst = append(dst, hexDigits[v>>uint(shift)&0xf])
		}
	}
	return dst
}

// appendHexN appends the low n hex digits of v.
func appendHexN(dst []byte, v uint64, n int) []byte {
	for shift := 4 * (n - 1); shift >= 0; shift -= 4 {
		dst = append(dst, hexDigits[v>>uint(shift)&0xf])
	}
	return dst
}
