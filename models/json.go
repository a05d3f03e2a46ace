package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
)

// StringList is a list of strings stored as a JSON text array.
type StringList []string

// Value stores the list as JSON text; an empty list is "[]", never NULL.
func (l StringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan reads a JSON text array.
func (l *StringList) Scan(src any) error {
	return scanJSON(src, (*[]string)(l))
}

// Identity is one person a sharing link was given to.
type Identity struct {
	ID          string `json:"id,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
	Email       string `json:"email,omitempty"`
	External    bool   `json:"external,omitempty"`
}

// Identities is a list of Identity stored as a JSON text array.
type Identities []Identity

// Value stores the list as JSON text; an empty list is "[]", never NULL.
func (l Identities) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]Identity(l))
	return string(b), err
}

// Scan reads a JSON text array.
func (l *Identities) Scan(src any) error {
	return scanJSON(src, (*[]Identity)(l))
}

func scanJSON(src any, dst any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("scan JSON list: unsupported type %T", src)
	}
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("scan JSON list: %w", err)
	}
	return nil
}

// Value stores the list as JSON text; an empty list is "[]", never NULL.
func (l GrantSnapshots) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]GrantSnapshot(l))
	return string(b), err
}

// Scan reads a JSON text array.
func (l *GrantSnapshots) Scan(src any) error {
	return scanJSON(src, (*[]GrantSnapshot)(l))
}
