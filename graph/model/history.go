package model

import (
	"strconv"
	"strings"
	"time"

	"github.com/overshare/overshare/models"
)

// The sharing history as the API shows it (graph/schema/history.graphqls).
type (
	SharingEvent models.SharingEvent
	SharingGrant models.GrantSnapshot
)

// ExposureInterval is one interval of models.ExposureInterval with its length as of a moment.
type ExposureInterval struct {
	Level         ExposureLevel
	StartedAt     time.Time
	EndedAt       *time.Time
	FromFirstSeen bool
	Seconds       int64
}

func (e *SharingEvent) GlobalID() string {
	return EncodeID(TypeSharingEvent, e.IntegrationID, strconv.FormatInt(e.ID, 10))
}
func (e *SharingEvent) IntegrationGlobalID() string {
	return EncodeID(TypeIntegration, e.IntegrationID)
}
func (e *SharingEvent) PermissionIDOrNull() *string { return OrNull(e.PermissionID) }
func (e *SharingEvent) ActorNameOrNull() *string    { return OrNull(e.ActorName) }
func (e *SharingEvent) ActorSubjectOrNull() *string { return OrNull(e.ActorSubject) }
func (e *SharingEvent) ModifiedByOrNull() *string   { return OrNull(e.ItemModifiedBy) }

// KindEnum is the stored kind in the API's words (first_seen → FIRST_SEEN).
func (e *SharingEvent) KindEnum() SharingEventKind { return SharingEventKind(strings.ToUpper(e.Kind)) }

var sourceToEnum = map[string]SharingEventSource{
	models.SourceMicrosoft365: SharingEventSourceMicrosoft365,
	models.SourceOvershare:    SharingEventSourceOvershare,
	models.SourceItemDeleted:  SharingEventSourceItemDeleted,
	models.SourceClock:        SharingEventSourceClock,
}

func (e *SharingEvent) SourceEnum() SharingEventSource { return sourceToEnum[e.Source] }

func (e *SharingEvent) BeforeList() []*SharingGrant { return grants(e.Before) }
func (e *SharingEvent) AfterList() []*SharingGrant  { return grants(e.After) }

func (e *SharingEvent) ExposureBeforeList() []ExposureLevel { return ExposureLevels(e.ExposureBefore) }
func (e *SharingEvent) ExposureAfterList() []ExposureLevel  { return ExposureLevels(e.ExposureAfter) }

func grants(gs models.GrantSnapshots) []*SharingGrant {
	out := make([]*SharingGrant, len(gs))
	for i := range gs {
		out[i] = (*SharingGrant)(&gs[i])
	}
	return out
}

// ExposureLevels names the models.Exposure* bits, BEYOND_ORGANIZATION included when either
// anonymous or external is set.
func ExposureLevels(bits int) []ExposureLevel {
	out := []ExposureLevel{}
	for _, l := range []struct {
		bit   int
		level ExposureLevel
	}{
		{models.ExposureAnonymous, ExposureLevelAnonymous},
		{models.ExposureOrganization, ExposureLevelOrganization},
		{models.ExposureExternal, ExposureLevelExternal},
		{models.ExposureBeyondOrganization, ExposureLevelBeyondOrganization},
	} {
		if bits&l.bit != 0 {
			out = append(out, l.level)
		}
	}
	return out
}

// LevelEnum is a stored interval level in the API's words.
func LevelEnum(level string) ExposureLevel {
	if level == models.LevelBeyond {
		return ExposureLevelBeyondOrganization
	}
	return ExposureLevel(strings.ToUpper(level))
}

func (g *SharingGrant) RoleList() []string {
	if g.Roles == "" {
		return []string{}
	}
	return strings.Split(g.Roles, ",")
}
func (g *SharingGrant) LinkTypeOrNull() *string       { return OrNull(g.LinkType) }
func (g *SharingGrant) ScopeEnum() SharingScope       { return scopeToEnum[g.Scope] }
func (g *SharingGrant) GrantedToOrNull() *string      { return OrNull(g.GrantedTo) }
func (g *SharingGrant) GrantedToEmailOrNull() *string { return OrNull(g.GrantedToEmail) }
func (g *SharingGrant) RecipientList() []string {
	if g.Recipients == nil {
		return []string{}
	}
	return g.Recipients
}
