package launcher

// TrimResident lets a test see when the launcher gives back its start's
// pages, and put the real trim back with the function returned.
func TrimResident(f func()) (restore func()) {
	was := trimResident
	trimResident = f
	return func() { trimResident = was }
}
