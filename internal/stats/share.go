package stats

// Share is a count and its exact percentage of a base.
type Share struct {
	Count   int      `json:"count"`
	Percent *float64 `json:"percent"`
}

// NewShare is count as a share of base.
func NewShare(count, base int) Share {
	return Share{Count: count, Percent: Percent(count, base)}
}

// Percent is count as an exact percentage of base; nil rather than NaN or
// Inf when there is nothing to take a share of.
func Percent(count, base int) *float64 {
	if base <= 0 {
		return nil
	}
	p := float64(count) * 100 / float64(base)
	return &p
}

// Mean is sum over n; nil when n is not above 0.
func Mean(sum, n int) *float64 {
	if n <= 0 {
		return nil
	}
	m := float64(sum) / float64(n)
	return &m
}
