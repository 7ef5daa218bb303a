package storage

import (
	"os"
)

// On Windows the data folder's ACL, inherited from the user's profile,
// decides who reads the files; modes mean nothing there.
func privateDir(string) {}

func privateFile(path string, create bool) error {
	if !create {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}
