package stats

import (
	"fmt"
	"strings"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Marginal is the result of a Stuart-Maxwell test of marginal homogeneity. Chi2 and P are
// nil, DF is 0 and Note says why when the test cannot be computed; Note also says when
// categories were left out.
type Marginal struct {
	Chi2 *float64 `json:"chi2"`
	DF   int      `json:"df"`
	P    *float64 `json:"p"`
	Note string   `json:"note,omitempty"`
}

// StuartMaxwell tests whether the row and column margins of a k×k table of paired
// categories (table[i][j] pairs in category i first and category j second) are the same.
// With d_i = row_i − col_i and S the covariance matrix S_ii = row_i + col_i − 2n_ii,
// S_ij = −(n_ij + n_ji), over all categories but one, chi2 = dᵀS⁻¹d on k−1 degrees of
// freedom.
//
// A category no pair moved into or out of has d_i = 0 and an all-zero row and column in
// S, so it is left out and the degrees of freedom drop by one, as DescTools'
// StuartMaxwellTest does; for k = 3 that leaves McNemar's test on the other two. The test
// is not computed when no pair changed category, or when the categories fall into groups
// with no pair moving between them, since S is then singular.
func StuartMaxwell(table [][]int) Marginal {
	k := len(table)
	if k < 2 {
		return Marginal{Note: "the table needs at least two categories"}
	}
	for _, row := range table {
		if len(row) != k {
			return Marginal{Note: "the table is not square"}
		}
		for _, c := range row {
			if c < 0 {
				return Marginal{Note: "the table has a negative count"}
			}
		}
	}

	// Undirected graph of moves between categories: w[i][j] = n_ij + n_ji.
	w := func(i, j int) int { return table[i][j] + table[j][i] }
	var kept, dropped []int
	for i := range k {
		moved := false
		for j := range k {
			if j != i && w(i, j) > 0 {
				moved = true
				break
			}
		}
		if moved {
			kept = append(kept, i)
		} else {
			dropped = append(dropped, i)
		}
	}
	if len(kept) == 0 {
		return Marginal{Note: "no pair changed category, so there is nothing to test"}
	}
	if !connected(kept, w) {
		return Marginal{Note: "the categories fall into groups with no pair moving between them, so the covariance matrix is singular"}
	}

	m := len(kept) - 1 // the last kept category is implied by the others
	rowSum := func(i int) (s int) {
		for _, c := range table[i] {
			s += c
		}
		return s
	}
	colSum := func(j int) (s int) {
		for _, row := range table {
			s += row[j]
		}
		return s
	}
	d := mat.NewVecDense(m, nil)
	s := mat.NewSymDense(m, nil)
	for a, i := range kept[:m] {
		d.SetVec(a, float64(rowSum(i)-colSum(i)))
		s.SetSym(a, a, float64(rowSum(i)+colSum(i)-2*table[i][i]))
		for b, j := range kept[a+1 : m] {
			s.SetSym(a, a+1+b, float64(-w(i, j)))
		}
	}

	// S is a reduced graph Laplacian of a connected graph, so it is positive definite;
	// the checks below guard against rounding alone.
	var chol mat.Cholesky
	if !chol.Factorize(s) {
		return Marginal{Note: "the covariance matrix is singular"}
	}
	var x mat.VecDense
	if err := chol.SolveVecTo(&x, d); err != nil {
		return Marginal{Note: "the covariance matrix is singular"}
	}
	chi2 := mat.Dot(d, &x)
	res := Marginal{
		Chi2: ptr(chi2),
		DF:   m,
		P:    ptr(distuv.ChiSquared{K: float64(m)}.Survival(chi2)),
	}
	if len(dropped) > 0 {
		res.Note = fmt.Sprintf("%s left out: no pair moved into or out of it", categoryList(dropped))
	}
	return res
}

// connected reports whether the categories in nodes form one connected graph under the
// edge weights w (an edge wherever the weight is positive).
func connected(nodes []int, w func(i, j int) int) bool {
	seen := map[int]bool{nodes[0]: true}
	stack := []int{nodes[0]}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, j := range nodes {
			if !seen[j] && w(i, j) > 0 {
				seen[j] = true
				stack = append(stack, j)
			}
		}
	}
	return len(seen) == len(nodes)
}

// categoryList names categories 1-based, as a reader of the table counts them.
func categoryList(idx []int) string {
	names := make([]string, len(idx))
	for i, c := range idx {
		names[i] = fmt.Sprint(c + 1)
	}
	if len(names) == 1 {
		return "category " + names[0]
	}
	return "categories " + strings.Join(names, ", ")
}
