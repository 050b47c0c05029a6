package inspector

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"
)

// RFC 6455's own example of the handshake, and crypto/sha1 on every
// length across the padding's edges.
func TestSHA1(t *testing.T) {
	sum := sha1Sum([]byte("dGhlIHNhbXBsZSBub25jZQ==" + acceptGUID))
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Errorf("RFC 6455's example: %s", got)
	}
	for n := range 300 {
		in := []byte(strings.Repeat("abcdefghij", 30)[:n])
		if sha1Sum(in) != sha1.Sum(in) {
			t.Errorf("%d bytes: %x, want %x", n, sha1Sum(in), sha1.Sum(in))
		}
	}
}

func FuzzSHA1(f *testing.F) {
	f.Add([]byte("dGhlIHNhbXBsZSBub25jZQ==" + acceptGUID))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		if sha1Sum(in) != sha1.Sum(in) {
			t.Fatalf("%x: %x, want %x", in, sha1Sum(in), sha1.Sum(in))
		}
	})
}
