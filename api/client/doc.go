// Package client is a Go client of the API, generated from api/openapi.yaml
// by oapi-codegen: proof that the document describes the API a program can
// call (its test runs the README's session through it). Regenerate after
// changing the document:
//
//	go generate ./api/client
package client

//go:generate go tool oapi-codegen -config oapi-codegen.yaml ../openapi.yaml
