// Package models holds the gorm models, one per table. The tables themselves
// are created by the versioned migrations in package store, never by
// AutoMigrate; the gorm tags here only name columns and keys so that gorm
// reads and writes them correctly.
//
// Every synced row carries IntegrationID. DriveItem and Permission hold the
// current state only: a deleted item or a removed permission is gone.
//
// Times are stored in UTC. Graph's own timestamps are named CreatedDateTime
// and LastModifiedDateTime so that gorm's autoCreateTime/autoUpdateTime
// conventions (fields named CreatedAt/UpdatedAt) never overwrite them.
package models
