package config

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable that sets a config key:
// NDIKIOSK_<TABLE>_<KEY>, e.g. NDIKIOSK_VERIFY_CLIENT_SECRET, so that
// secrets need not sit in the file. Lists are comma-separated.
const EnvPrefix = "NDIKIOSK_"

// applyEnv sets config values from the environment; it reports the
// variables that could not be read.
func (c *Config) applyEnv() []string {
	var problems []string
	known := map[string]bool{}
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		tag := strings.Split(t.Field(i).Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Struct && f.Type() != reflect.TypeOf(Duration{}) {
			problems = append(problems, envTable(f, EnvPrefix+strings.ToUpper(tag)+"_", known)...)
			continue
		}
		name := EnvPrefix + strings.ToUpper(tag)
		known[name] = true
		if val, ok := os.LookupEnv(name); ok {
			if err := setField(f, val); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		}
	}
	return append(problems, unknownEnv(known)...)
}

// envTable sets a table's keys from NDIKIOSK_<TABLE>_<KEY>, and a
// sub-table's ([notify.smtp]) from NDIKIOSK_<TABLE>_<SUB>_<KEY>.
func envTable(f reflect.Value, prefix string, known map[string]bool) []string {
	var problems []string
	ft := f.Type()
	for j := 0; j < ft.NumField(); j++ {
		key := strings.Split(ft.Field(j).Tag.Get("toml"), ",")[0]
		if key == "" || key == "-" {
			continue
		}
		name := prefix + strings.ToUpper(key)
		if sub := f.Field(j); sub.Kind() == reflect.Struct && sub.Type() != reflect.TypeOf(Duration{}) {
			problems = append(problems, envTable(sub, name+"_", known)...)
			continue
		}
		known[name] = true
		if val, ok := os.LookupEnv(name); ok {
			if err := setField(f.Field(j), val); err != nil {
				problems = append(problems, fmt.Sprintf("%s: %v", name, err))
			}
		}
	}
	return problems
}

// unknownEnv reports NDIKIOSK_ variables that set no key: a misspelt one
// would otherwise be silently ignored.
func unknownEnv(known map[string]bool) []string {
	var problems []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, EnvPrefix) && !known[name] {
			problems = append(problems, "unknown environment variable "+name)
		}
	}
	slices.Sort(problems)
	return problems
}

func setField(f reflect.Value, val string) error {
	switch {
	case f.Type() == reflect.TypeOf(Duration{}):
		d, err := time.ParseDuration(val)
		if err != nil {
			return fmt.Errorf("%q is not a duration", val)
		}
		f.Set(reflect.ValueOf(Duration{d}))
	case f.Kind() == reflect.Pointer && f.Type().Elem().Kind() == reflect.Int:
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", val)
		}
		f.Set(reflect.ValueOf(&n))
	case f.Kind() == reflect.String:
		f.SetString(val)
	case f.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(val)
		if err != nil {
			return fmt.Errorf("%q is not true or false", val)
		}
		f.SetBool(b)
	case f.Kind() == reflect.Int:
		n, err := strconv.Atoi(val)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", val)
		}
		f.SetInt(int64(n))
	case f.Kind() == reflect.Float64:
		x, err := strconv.ParseFloat(val, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", val)
		}
		f.SetFloat(x)
	case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
		var parts []string
		for _, p := range strings.Split(val, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
