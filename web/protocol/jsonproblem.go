package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// JSONProblem says in plain words why a JSON body or message could not be decoded,
// without Go's type names: "it is not valid JSON (at byte 12)", `"index" must be a number,
// not a string`, "it must be a JSON object, not an array".
func JSONProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		if strings.Contains(syn.Error(), "unexpected end") {
			return "it is not valid JSON (it ends too early)"
		}
		return fmt.Sprintf("it is not valid JSON (at byte %d)", syn.Offset)
	case errors.As(err, &typ):
		want := jsonKind(typ.Type)
		if strings.HasPrefix(typ.Value, "number ") && want == "number" {
			return fmt.Sprintf("%q must be a whole number", typ.Field)
		}
		if typ.Field == "" {
			return fmt.Sprintf("it must be a JSON %s, not %s", want, article(typ.Value))
		}
		return fmt.Sprintf("%q must be %s, not %s", typ.Field, article(want), article(typ.Value))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "it is not valid JSON (it ends too early)"
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if field, ok := strings.CutPrefix(msg, "unknown field "); ok {
		return "it has an unknown field " + field
	}
	return msg
}

// jsonKind names the JSON value a Go type is decoded from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "value"
}

// article puts "a" or "an" before a JSON kind ("an array", "a number").
func article(kind string) string {
	if strings.HasPrefix(kind, "number") {
		kind = "number" // "number -1": a sign where an unsigned one was wanted
	}
	if kind == "bool" {
		kind = "boolean"
	}
	switch kind {
	case "array", "object":
		return "an " + kind
	case "":
		return "a value"
	}
	return "a " + kind
}
