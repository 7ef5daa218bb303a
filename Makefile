# Build, package and install ndikiosk. `make help` lists the targets.
VERSION ?= 0.1.0
BUILD   ?= 1
PREFIX  ?= $(HOME)/.local
LDFLAGS := -X main.version=$(VERSION)
WINCC   ?= x86_64-w64-mingw32-gcc

.PHONY: help build test package-linux install uninstall windows sign-windows verify-windows screenshots bench robustness

help:
	@echo "build           ndikiosk for this machine"
	@echo "test            the whole test suite (same as ./scripts/test)"
	@echo "package-linux   dist/ndikiosk.tar.xz with the fyne packaging tool"
	@echo "install         the binary, desktop entry, autostart entry and systemd user unit under $(PREFIX) and ~/.config"
	@echo "windows         dist/ndikiosk.exe, cross-built with mingw-w64"
	@echo "sign-windows    Authenticode-sign it: CERT=file.p12 PASS=... (a throwaway certificate when CERT is unset)"
	@echo "bench, robustness, screenshots"

build:
	go build -ldflags "$(LDFLAGS)" -o ndikiosk .

test:
	./scripts/test

# fyne package writes into the folder it packages: it bumps Build in
# FyneApp.toml, drops fyne_metadata_init.go and a binary beside the sources
# (left behind if it is killed), and deletes a ./ndikiosk from `make build`. So it
# runs on a copy of the sources (tracked and new files, not ignored ones),
# removed on exit, even when packaging fails or is interrupted; the work
# tree is never touched.
package-linux:
	mkdir -p dist
	@set -eu; \
	src=$$(mktemp -d "$${TMPDIR:-/tmp}/ndikiosk-package.XXXXXX"); \
	trap 'rm -rf "$$src"' EXIT; trap 'exit 1' HUP INT TERM; \
	git rev-parse --is-inside-work-tree >/dev/null || { echo "package-linux packages a git checkout" >&2; exit 1; }; \
	git ls-files -z --cached --others --exclude-standard | \
		tar --null -T - --ignore-failed-read -cf - | tar -xf - -C "$$src"; \
	echo "packaging a copy of the sources in $$src"; \
	(cd "$$src" && go tool fyne package -os linux -release -icon assets/icon.png -app-version $(VERSION) -app-build $(BUILD)); \
	mv -f "$$src/ndikiosk.tar.xz" dist/ndikiosk.tar.xz; \
	echo "dist/ndikiosk.tar.xz"

install: build
	install -D -m 0755 ndikiosk $(PREFIX)/bin/ndikiosk
	install -D -m 0644 assets/icon.png $(HOME)/.local/share/icons/hicolor/512x512/apps/ndikiosk.png
	install -D -m 0644 packaging/linux/ndikiosk.desktop $(HOME)/.local/share/applications/ndikiosk.desktop
	install -D -m 0644 packaging/linux/ndikiosk-autostart.desktop $(HOME)/.config/autostart/ndikiosk.desktop
	install -D -m 0644 packaging/linux/ndikiosk.service $(HOME)/.config/systemd/user/ndikiosk.service
	@test -f $(HOME)/.config/ndikiosk/ndikiosk.toml || install -D -m 0600 packaging/ndikiosk.example.toml $(HOME)/.config/ndikiosk/ndikiosk.toml
	@echo "Installed. Edit ~/.config/ndikiosk/ndikiosk.toml, check it with: ndikiosk doctor --config ~/.config/ndikiosk/ndikiosk.toml"
	@echo "Autostart: the desktop autostart entry, or: systemctl --user enable --now ndikiosk"

uninstall:
	rm -f $(PREFIX)/bin/ndikiosk $(HOME)/.local/share/applications/ndikiosk.desktop $(HOME)/.config/autostart/ndikiosk.desktop \
		$(HOME)/.config/systemd/user/ndikiosk.service $(HOME)/.local/share/icons/hicolor/512x512/apps/ndikiosk.png

windows:
	mkdir -p dist
	CC=$(WINCC) CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CGO_LDFLAGS="-static -lssp" \
		go build -ldflags "$(LDFLAGS) -H windowsgui -s -w" -o dist/ndikiosk.exe .

sign-windows: windows
	./scripts/sign-windows dist/ndikiosk.exe

screenshots:
	./scripts/screenshots

bench:
	./bench/run

robustness:
	./bench/robustness
