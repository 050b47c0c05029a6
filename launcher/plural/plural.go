// Package plural picks a word's singular or plural by count, for messages.
package plural

// Of is word, or word+"s" unless n is 1.
func Of(n int, word string) string { return Word(n, word, word+"s") }

// Word is one when n is 1, else many.
func Word(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
