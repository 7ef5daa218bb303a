// Command ndikiosk is a self-service Singpass Verify kiosk. See README.md.
package main

import "os"

func main() { os.Exit(cli(os.Args[1:], os.Stdout, os.Stderr)) }
