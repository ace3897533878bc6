// SPDX-License-Identifier: MIT

// A reply checked against the output type of its method in the interface
// description that the daemon serves: the daemon and its published IDL
// agree, as parsed by the Go library (which has a parser but no checker).
package main

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/varlink/go/varlink/idl"
)

func conforms(d *idl.IDL, method string, raw json.RawMessage) error {
	if d == nil {
		return nil
	}
	for _, m := range d.Methods {
		if m.Name == method {
			var v interface{}
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			if err := valueOf(d, m.Out, v, 0); err != nil {
				return fmt.Errorf("%s reply does not match the description: %v", method, err)
			}
			return nil
		}
	}
	return fmt.Errorf("the description has no method %s", method)
}

func alias(d *idl.IDL, name string) *idl.Type {
	for _, a := range d.Aliases {
		if a.Name == name {
			return a.Type
		}
	}
	return nil
}

// valueOf: v (decoded by encoding/json) is a value of type t.
func valueOf(d *idl.IDL, t *idl.Type, v interface{}, depth int) error {
	if depth > 32 {
		return fmt.Errorf("nested too deep")
	}
	if t.Kind == idl.TypeMaybe {
		if v == nil {
			return nil
		}
		return valueOf(d, t.ElementType, v, depth+1)
	}
	if v == nil {
		return fmt.Errorf("null where the type is not optional")
	}
	switch t.Kind {
	case idl.TypeBool:
		if _, is := v.(bool); !is {
			return fmt.Errorf("%v is not a bool", v)
		}
	case idl.TypeInt:
		if f, is := v.(float64); !is || f != math.Trunc(f) {
			return fmt.Errorf("%v is not an int", v)
		}
	case idl.TypeFloat:
		if _, is := v.(float64); !is {
			return fmt.Errorf("%v is not a float", v)
		}
	case idl.TypeString:
		if _, is := v.(string); !is {
			return fmt.Errorf("%v is not a string", v)
		}
	case idl.TypeObject:
		if _, is := v.(map[string]interface{}); !is {
			return fmt.Errorf("%v is not an object", v)
		}
	case idl.TypeArray:
		a, is := v.([]interface{})
		if !is {
			return fmt.Errorf("%v is not an array", v)
		}
		for i, e := range a {
			if err := valueOf(d, t.ElementType, e, depth+1); err != nil {
				return fmt.Errorf("[%d]: %v", i, err)
			}
		}
	case idl.TypeMap:
		m, is := v.(map[string]interface{})
		if !is {
			return fmt.Errorf("%v is not a map", v)
		}
		for k, e := range m {
			if err := valueOf(d, t.ElementType, e, depth+1); err != nil {
				return fmt.Errorf("[%q]: %v", k, err)
			}
		}
	case idl.TypeEnum:
		s, is := v.(string)
		if !is {
			return fmt.Errorf("%v is not an enum name", v)
		}
		for _, f := range t.Fields {
			if f.Name == s {
				return nil
			}
		}
		return fmt.Errorf("%q is not one of the enum's names", s)
	case idl.TypeStruct:
		return structOf(d, t, v, depth)
	case idl.TypeAlias:
		a := alias(d, t.Alias)
		if a == nil {
			return fmt.Errorf("type %s is not defined", t.Alias)
		}
		return valueOf(d, a, v, depth+1)
	default:
		return fmt.Errorf("unknown type kind %d", t.Kind)
	}
	return nil
}

// structOf: every field present unless optional, and no field the type lacks.
func structOf(d *idl.IDL, t *idl.Type, v interface{}, depth int) error {
	m, is := v.(map[string]interface{})
	if !is {
		return fmt.Errorf("%v is not an object", v)
	}
	known := map[string]bool{}
	for _, f := range t.Fields {
		known[f.Name] = true
		e, present := m[f.Name]
		if !present && f.Type.Kind != idl.TypeMaybe {
			return fmt.Errorf("field %s is missing", f.Name)
		}
		if err := valueOf(d, f.Type, e, depth+1); err != nil {
			return fmt.Errorf("%s: %v", f.Name, err)
		}
	}
	for k := range m {
		if !known[k] {
			return fmt.Errorf("field %s is not in the description", k)
		}
	}
	return nil
}
