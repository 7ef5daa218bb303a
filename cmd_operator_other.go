//go:build !linux

package main

import "os"

// noEcho: elsewhere the password is read as a line from standard input
// (pipe it in, or use --password-file).
func noEcho(*os.File) (func(), bool) { return nil, false }
