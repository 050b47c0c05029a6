// Command artwork draws the add-on's store images: icon.png (256×256, the
// store's tile) and logo.png (250×100, the top of the add-on's page), into
// the folder given as its argument (default: the current one). The drawing
// is code, so the images are the project's own and reproducible:
// addon/store_test.go checks that the committed files are what this draws.
//
//	go run ./addon/artwork .
package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

var (
	blue  = color.NRGBA{0x03, 0xa9, 0xf4, 0xff} // Home Assistant's primary colour
	navy  = color.NRGBA{0x0d, 0x3b, 0x66, 0xff}
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
)

// shape is a signed distance: negative inside, in pixels.
type shape func(x, y float64) float64

func roundedRect(cx, cy, w, h, r float64) shape {
	return func(x, y float64) float64 {
		dx := math.Abs(x-cx) - w/2 + r
		dy := math.Abs(y-cy) - h/2 + r
		out := math.Hypot(math.Max(dx, 0), math.Max(dy, 0))
		return out + math.Min(math.Max(dx, dy), 0) - r
	}
}

func ellipse(cx, cy, rx, ry float64) shape {
	return func(x, y float64) float64 {
		k := math.Hypot((x-cx)/rx, (y-cy)/ry)
		return (k - 1) * math.Min(rx, ry)
	}
}

func union(a, b shape) shape {
	return func(x, y float64) float64 { return math.Min(a(x, y), b(x, y)) }
}

func minus(a, b shape) shape {
	return func(x, y float64) float64 { return math.Max(a(x, y), -b(x, y)) }
}

// arc is a ring segment from angle a0 to a1 (radians, clockwise on screen).
func arc(cx, cy, r, width, a0, a1 float64) shape {
	return func(x, y float64) float64 {
		a := math.Atan2(y-cy, x-cx)
		for a < a0 {
			a += 2 * math.Pi
		}
		ring := math.Abs(math.Hypot(x-cx, y-cy)-r) - width/2
		if a <= a1 {
			return ring
		}
		// Outside the segment: distance to its nearer end.
		e0x, e0y := cx+r*math.Cos(a0), cy+r*math.Sin(a0)
		e1x, e1y := cx+r*math.Cos(a1), cy+r*math.Sin(a1)
		return math.Min(math.Hypot(x-e0x, y-e0y), math.Hypot(x-e1x, y-e1y)) - width/2
	}
}

// triangle through three points.
func triangle(ax, ay, bx, by, px, py float64) shape {
	edge := func(x0, y0, x1, y1 float64) shape {
		nx, ny := y1-y0, x0-x1
		l := math.Hypot(nx, ny)
		return func(x, y float64) float64 { return ((x-x0)*nx + (y-y0)*ny) / l }
	}
	e := []shape{edge(ax, ay, bx, by), edge(bx, by, px, py), edge(px, py, ax, ay)}
	// Orient the edges so that inside is negative.
	cx, cy := (ax+bx+px)/3, (ay+by+py)/3
	sign := 1.0
	if e[0](cx, cy) > 0 {
		sign = -1
	}
	return func(x, y float64) float64 {
		d := math.Inf(-1)
		for _, f := range e {
			d = math.Max(d, sign*f(x, y))
		}
		return d
	}
}

// paint fills s with c over img, antialiased by 4×4 supersampling.
func paint(img *image.NRGBA, s shape, c color.NRGBA) {
	b := img.Bounds()
	for py := b.Min.Y; py < b.Max.Y; py++ {
		for px := b.Min.X; px < b.Max.X; px++ {
			if s(float64(px)+0.5, float64(py)+0.5) > 2 {
				continue
			}
			n := 0
			for sy := 0; sy < 4; sy++ {
				for sx := 0; sx < 4; sx++ {
					if s(float64(px)+(float64(sx)+0.5)/4, float64(py)+(float64(sy)+0.5)/4) <= 0 {
						n++
					}
				}
			}
			if n == 0 {
				continue
			}
			blend(img, px, py, c, float64(n)/16)
		}
	}
}

func blend(img *image.NRGBA, x, y int, c color.NRGBA, cover float64) {
	a := cover * float64(c.A) / 255
	old := img.NRGBAAt(x, y)
	oa := float64(old.A) / 255
	na := a + oa*(1-a)
	mix := func(n, o uint8) uint8 {
		if na == 0 {
			return 0
		}
		return uint8(math.Round((float64(n)*a + float64(o)*oa*(1-a)) / na))
	}
	img.SetNRGBA(x, y, color.NRGBA{mix(c.R, old.R), mix(c.G, old.G), mix(c.B, old.B), uint8(math.Round(na * 255))})
}

// mark draws the add-on's mark, a database between two sync arrows, in a
// square of side s at (ox, oy).
func mark(img *image.NRGBA, ox, oy, s float64) {
	u := s / 256
	paint(img, roundedRect(ox+128*u, oy+128*u, 256*u, 256*u, 48*u), blue)
	// The database: a cylinder of three stacked discs.
	cx := ox + 128*u
	body := union(roundedRect(cx, oy+128*u, 92*u, 96*u, 6*u), ellipse(cx, oy+176*u, 46*u, 16*u))
	body = union(body, ellipse(cx, oy+80*u, 46*u, 16*u))
	paint(img, body, white)
	for _, yy := range []float64{80, 112, 144} {
		paint(img, minus(ellipse(cx, oy+yy*u, 46*u, 16*u), ellipse(cx, oy+(yy-5)*u, 46*u, 15*u)), blue)
	}
	paint(img, ellipse(cx, oy+80*u, 40*u, 11*u), navy)
	// The sync arrows around it.
	r, w := 104*u, 12*u
	paint(img, arc(cx, oy+128*u, r, w, math.Pi*1.10, math.Pi*1.62), white)
	paint(img, arc(cx, oy+128*u, r, w, math.Pi*0.10, math.Pi*0.62), white)
	tip := func(a, dir float64) shape {
		x, y := cx+r*math.Cos(a), oy+128*u+r*math.Sin(a)
		tx, ty := -math.Sin(a)*dir, math.Cos(a)*dir // along the arc
		nx, ny := math.Cos(a), math.Sin(a)          // across it
		return triangle(x+tx*22*u, y+ty*22*u, x+nx*18*u, y+ny*18*u, x-nx*18*u, y-ny*18*u)
	}
	paint(img, tip(math.Pi*1.62, 1), white)
	paint(img, tip(math.Pi*0.62, 1), white)
}

// glyphs is a 5×7 pixel font for the letters of the name.
var glyphs = map[rune][7]string{
	'H': {"#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	'A': {".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"},
	's': {".....", ".....", ".####", "#....", ".###.", "....#", "####."},
	'y': {".....", ".....", "#...#", "#...#", ".####", "....#", ".###."},
	'n': {".....", ".....", "####.", "#...#", "#...#", "#...#", "#...#"},
	'c': {".....", ".....", ".####", "#....", "#....", "#....", ".####"},
}

// text draws s with each font pixel a rounded square of side px.
func text(img *image.NRGBA, s string, ox, oy, px float64, c color.NRGBA) {
	x := ox
	for _, r := range s {
		g := glyphs[r]
		for row, line := range g {
			for col, ch := range line {
				if ch == '#' {
					paint(img, roundedRect(x+(float64(col)+0.5)*px, oy+(float64(row)+0.5)*px, px*1.02, px*1.02, px*0.18), c)
				}
			}
		}
		x += 6 * px
	}
}

func icon() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 256, 256))
	mark(img, 0, 0, 256)
	return img
}

func logo() *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, 250, 100))
	mark(img, 6, 10, 80)
	text(img, "HAsync", 96, 35, 4.1, navy)
	return img
}

func encode(img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		panic(err) // encoding an in-memory NRGBA cannot fail
	}
	return b.Bytes()
}

// Images are the store's files and what each holds.
func Images() map[string][]byte {
	return map[string][]byte{"icon.png": encode(icon()), "logo.png": encode(logo())}
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	for name, b := range Images() {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "artwork:", err)
			os.Exit(1)
		}
	}
}
