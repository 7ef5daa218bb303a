package ui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"fyne.io/fyne/v2/lang"

	"ndikiosk/assets"
)

// Language is one of the kiosk's screen languages.
type Language struct {
	Code string // en, zh, ms, ta
	Name string // in its own script
}

// Languages are Singapore's four official languages, in the order the
// switcher shows them.
var Languages = []Language{{"en", "English"}, {"zh", "中文"}, {"ms", "Bahasa Melayu"}, {"ta", "தமிழ்"}}

// translator looks strings up in the embedded translation files. Fyne's
// lang package follows the system locale only; a kiosk must switch for
// each visitor, so the tables are kept here (in lang's file format).
type translator struct {
	tables map[string]map[string]string
	lang   string
}

func newTranslator() *translator {
	tables, err := loadTranslations()
	if err != nil {
		panic(err.Error()) // embedded at build time; TestTranslationsComplete reads them all
	}
	return &translator{tables: tables, lang: "en"}
}

// loadTranslations reads the embedded tables: translations/LANG.json and
// any number of translations/LANG-PART.json (one part a screen, say), merged
// into one table a language. A key in two files of one language is an error.
func loadTranslations() (map[string]map[string]string, error) {
	tables := map[string]map[string]string{}
	files, _ := fs.Glob(assets.Translations, "translations/*.json")
	for _, f := range files {
		code, _, _ := strings.Cut(strings.TrimSuffix(path.Base(f), ".json"), "-")
		b, _ := assets.Translations.ReadFile(f)
		part := map[string]string{}
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("translation %s: %w", f, err)
		}
		if tables[code] == nil {
			tables[code] = map[string]string{}
		}
		for k, v := range part {
			if _, dup := tables[code][k]; dup {
				return nil, fmt.Errorf("translation %s: %q is in another %s file too", f, k, code)
			}
			tables[code][k] = v
		}
	}
	return tables, nil
}

// T translates key into the current language, falling back to English and
// then to the key; vars fill {{.Name}} style placeholders, as pairs.
func (t *translator) T(key string, vars ...string) string {
	s, ok := t.tables[t.lang][key]
	if !ok {
		if s, ok = t.tables["en"][key]; !ok {
			s = key
		}
	}
	for i := 0; i+1 < len(vars); i += 2 {
		s = strings.ReplaceAll(s, "{{."+vars[i]+"}}", vars[i+1])
	}
	return s
}

// Has reports whether key has a translation in English (and so in all).
func (t *translator) Has(key string) bool {
	_, ok := t.tables["en"][key]
	return ok
}

// set switches language; unknown codes are ignored.
func (t *translator) set(code string) {
	if _, ok := t.tables[code]; ok {
		t.lang = code
	}
}

// defaultLanguage is the configured language, or the system locale's when
// it is one of the four, or English.
func defaultLanguage(configured string) string {
	for _, c := range []string{configured, lang.SystemLocale().LanguageString()} {
		c = strings.ToLower(c)
		if i := strings.IndexAny(c, "-_"); i > 0 {
			c = c[:i]
		}
		for _, l := range Languages {
			if l.Code == c {
				return c
			}
		}
	}
	return "en"
}
