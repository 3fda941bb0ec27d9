package api

import (
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/lifelong-links/sct/internal/access"
	"github.com/lifelong-links/sct/internal/auth"
	"github.com/lifelong-links/sct/internal/followup"
	"github.com/lifelong-links/sct/internal/participation"
	"github.com/lifelong-links/sct/internal/practice"
	"github.com/lifelong-links/sct/internal/store"
	"github.com/lifelong-links/sct/internal/summary"
)

type pairedResponse struct {
	summary.PairedReport
	Wave    int          `json:"wave"`
	Filters summaryQuery `json:"filters"`
}

// sctPaired compares the same children at baseline and at one follow-up
// wave (1 unless asked). Both SCTs of a pair must pass the filters. Two
// passes over the summary inputs (held in memory) and a join by child; the
// rank tests then sort the pairs.
func (h *handlers) sctPaired(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site", "group", "version", "wave", "from", "to")
	if err != nil {
		return err
	}
	scheme, err := h.sctScheme(q.Version)
	if err != nil {
		return err
	}
	wave := q.Wave
	if wave == 0 {
		wave = 1
	}
	ctx := c.Request().Context()
	type half struct {
		group string
		in    summary.Input
	}
	baseline := map[string]half{}
	f := q.filter("sct")
	f.Timepoint, f.Wave = "baseline", 0
	if err := h.store.EachSCTInputOfChild(ctx, f, func(child, group string, in summary.Input) {
		baseline[child] = half{group, in}
	}); err != nil {
		return err
	}
	var pairs []summary.Pair
	f.Timepoint, f.Wave = "follow_up", wave
	if err := h.store.EachSCTInputOfChild(ctx, f, func(child, group string, in summary.Input) {
		if b, ok := baseline[child]; ok {
			pairs = append(pairs, summary.Pair{ChildID: child, Group: b.group, Baseline: b.in, FollowUp: in})
		}
	}); err != nil {
		return err
	}
	slices.SortFunc(pairs, func(a, b summary.Pair) int { return strings.Compare(a.ChildID, b.ChildID) })
	q.Wave = wave
	return h.table(c, q, pairedResponse{PairedReport: summary.Paired(scheme, pairs), Wave: wave, Filters: q})
}

type practiceResponse struct {
	practice.Report
	Filters summaryQuery `json:"filters"`
}

// practiceSummary builds Tables 2, 5 and 6 and the connection and process
// figures over practice summaries of both formats.
func (h *handlers) practiceSummary(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site", "version", "from", "to")
	if err != nil {
		return err
	}
	versions := h.forms.Versions("practice-summary")
	latest := versions[len(versions)-1]
	scheme := practice.Scheme{Tools: latest.CodeList("tool"), Outcomes: latest.CodeList("outcome"), ObjectiveCategories: latest.CodeList("objective")}
	var cases []practice.Case
	if err := h.store.EachPracticeInput(c.Request().Context(), q.filter("practice-summary"), func(site string, in practice.Input) {
		cases = append(cases, practice.Case{Site: site, Input: in})
	}); err != nil {
		return err
	}
	return h.table(c, q, practiceResponse{Report: practice.Tables(scheme, cases), Filters: q})
}

// putParticipation replaces a child's participation record.
func (h *handlers) putParticipation(c echo.Context) error {
	var p store.Participation
	if err := decodeJSON(c, &p); err != nil {
		return err
	}
	if faults := participation.Check(p); len(faults) > 0 {
		return invalid(http.StatusUnprocessableEntity, "the participation record has invalid fields", faults...)
	}
	child, err := h.store.SetParticipation(c.Request().Context(), checkedChild(c).ID, p)
	if err != nil {
		return err
	}
	if err := h.audit(c, "participation.put", "child:"+child.ID, child.Site, ""); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, child)
}

// participationTable is the report's Table 7.
func (h *handlers) participationTable(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site")
	if err != nil {
		return err
	}
	children, err := h.store.ChildrenOfSite(c.Request().Context(), q.Site)
	if err != nil {
		return err
	}
	return h.table(c, q, map[string]any{"table7": participation.Count(children), "filters": q})
}

// dueList gathers the follow-up due list of one site, or of all.
func (h *handlers) dueList(c echo.Context, site string) ([]followup.Item, []store.ResponseInfo, map[string]int, error) {
	ctx := c.Request().Context()
	children, err := h.store.ChildrenOfSite(ctx, site)
	if err != nil {
		return nil, nil, nil, err
	}
	responses, err := h.store.ResponsesOfSite(ctx, site)
	if err != nil {
		return nil, nil, nil, err
	}
	sites, err := h.store.Sites(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	months := map[string]int{}
	for _, s := range sites {
		months[s.Code] = s.FollowUpMonths
		if months[s.Code] == 0 {
			months[s.Code] = store.DefaultFollowUpMonths
		}
	}
	scts := map[string][]followup.SCT{}
	for _, r := range responses {
		if r.Form == "sct" && r.Status == store.StatusSubmitted {
			scts[r.ChildID] = append(scts[r.ChildID], followup.SCT{Timepoint: r.Timepoint, Wave: r.Wave, CompletedOn: r.CompletedOn})
		}
	}
	perSite := map[string]int{}
	list := make([]followup.Child, len(children))
	for i, ch := range children {
		ceased := ch.Participation != nil && ch.Participation.CeasedOn != ""
		list[i] = followup.Child{ID: ch.ID, Site: ch.Site, Group: ch.Group, Ceased: ceased, SCTs: scts[ch.ID]}
		perSite[ch.Site]++
	}
	return followup.List(list, months, h.now()), responses, perSite, nil
}

// followups lists who is due an SCT, overdue, or has no baseline.
func (h *handlers) followups(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site")
	if err != nil {
		return err
	}
	items, _, _, err := h.dueList(c, q.Site)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"site": q.Site, "today": h.now().Format("2006-01-02"),
		"counts": followup.Counts(items), "children": items})
}

// returns counts each site's submitted forms by timepoint, live.
func (h *handlers) returns(c echo.Context) error {
	q, err := bindSummaryQuery(c, "site")
	if err != nil {
		return err
	}
	items, responses, children, err := h.dueList(c, q.Site)
	if err != nil {
		return err
	}
	records := make([]followup.Record, len(responses))
	for i, r := range responses {
		records[i] = followup.Record{Site: r.Site, Form: r.Form, Version: r.Version, Timepoint: r.Timepoint, Status: r.Status, Wave: r.Wave}
	}
	return h.table(c, q, map[string]any{"returns": followup.Returns(children, records, items), "filters": q})
}

// createCalendar gives the caller a private address for their follow-up
// calendar; a new one replaces the old.
func (h *handlers) createCalendar(c echo.Context) error {
	base, err := h.publicBase(c) // before the new token replaces the old
	if err != nil {
		return err
	}
	p := principal(c)
	token, hash, err := auth.NewOpaqueToken()
	if err != nil {
		return err
	}
	if err := h.store.SetCalendarToken(c.Request().Context(), p.Subject, hash); err != nil {
		return err
	}
	if err := h.audit(c, "calendar.create", "user:"+p.Subject, "", ""); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]string{
		"url": base + "/api/v1/calendar/" + token + ".ics",
	})
}

// calendar serves a worker's follow-up feed to their calendar program, which
// cannot sign in: the secret address is the credential.
func (h *handlers) calendar(c echo.Context) error {
	token := strings.TrimSuffix(c.Param("token"), ".ics")
	ctx := c.Request().Context()
	u, err := h.store.CalendarUser(ctx, auth.HashOpaque(token))
	if err != nil || u.Disabled {
		return errNotFound
	}
	p := access.Principal{Subject: u.ID, Role: access.Role(u.Role), Sites: u.Sites}
	var items []followup.Item
	sites := u.Sites
	if p.AllSites() {
		sites = []string{""}
	}
	for _, site := range sites {
		list, _, _, err := h.dueList(c, site)
		if err != nil {
			return err
		}
		items = append(items, list...)
	}
	c.Response().Header().Set(echo.HeaderContentType, "text/calendar; charset=utf-8")
	c.Response().WriteHeader(http.StatusOK)
	return followup.Calendar(c.Response(), "SCT follow-ups", items, h.now())
}

type siteChangeRequest struct {
	FollowUpMonths int `json:"followup_months" validate:"required,min=1,max=36"`
}

// updateSite changes a site's follow-up interval.
func (h *handlers) updateSite(c echo.Context) error {
	var req siteChangeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	site, err := h.store.SetFollowUpMonths(c.Request().Context(), c.Param("code"), req.FollowUpMonths)
	if err != nil {
		return err
	}
	if err := h.audit(c, "site.update", "site:"+site.Code, site.Code, "followup_months"); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, site)
}
