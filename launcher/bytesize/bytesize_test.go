package bytesize

import "testing"

func TestFormat(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0B", 1000: "1000B", 1 << 10: "1KiB", 1<<10 + 1: "1025B", 512 << 10: "512KiB",
		1 << 20: "1MiB", 160 << 20: "160MiB", 6745088: "6.4MiB",
		1 << 30: "1GiB", 29 << 30: "29GiB", 1288490189: "1.2GiB",
	} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q, want %q", n, got, want)
		}
	}
}
