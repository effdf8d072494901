// Command crdrules asks what the Kubernetes API server's own CRD code answers, for the tests
// (tests/transitions.rs), with k8s.io/apiextensions-apiserver@v0.35.0.
//
// An input {"schema": openAPIV3Schema, "old": object or null, "new": object} evaluates the
// schema's CEL rules (x-kubernetes-validations) on an update: compiled as the server compiles
// them (pkg/registry/customresource/strategy.go NewStrategy: cel.NewValidator on the structural
// schema, celconfig.PerCallLimit) and evaluated as ValidateUpdate evaluates them, on the new
// object with the old one beside it, so that transition rules (those naming oldSelf, such as
// "self == oldSelf") are evaluated, with validation ratcheting (CRDValidationRatcheting, on by
// default since Kubernetes 1.30) and the runtime cost budget. Both objects are decoded as the
// server decodes them (integers as int64, pkg/apiserver/customresource_handler.go) and
// defaulted from the schema as it defaults what it decodes and what it reads from storage
// (unstructuredDefaulter). Without an old object the rules are evaluated as on create, where
// transition rules are skipped. A schema that is not structural, or a rule that does not
// compile, is an error of that input.
//
// With "through": "hypershift", the new object is first passed through HyperShift's Go types
// (github.com/openshift/hypershift/api, the newest the module proxy serves: decoded, refusing a
// field the types lack, and encoded again), which is what HyperShift's controllers write back
// when they update the object with their typed client.
//
// An input {"crd": CustomResourceDefinition} asks instead whether the server takes the CRD: its
// validation of a new one (pkg/apis/apiextensions/validation, after the v1 defaults: a
// structural schema, CEL rules that compile within the cost budget it estimates).
//
// It reads a JSON array of inputs from stdin and writes a JSON array of {"errors": [string]}
// to stdout, one per input, errors in the server's own wording ("spec.services: Invalid value:
// ...: Services is immutable...").
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	hyperv1 "github.com/openshift/hypershift/api/hypershift/v1beta1"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apivalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	kjson "k8s.io/apimachinery/pkg/util/json"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
)

type input struct {
	// CRD, when set, asks instead whether the API server takes this CustomResourceDefinition
	// (apiextensions validation, CEL rules compiled and their cost estimated within budget).
	CRD    json.RawMessage `json:"crd"`
	Schema json.RawMessage `json:"schema"`
	Old    map[string]any  `json:"old"`
	New    map[string]any  `json:"new"`
	// Through names Go types to pass New through first (decoded into them and encoded again),
	// as a controller's typed update writes an object back: "hypershift" for HyperShift's.
	Through string `json:"through"`
}

type output struct {
	Errors []string `json:"errors"`
}

// compiled is one schema's structural form and validator (nil when it has no rules).
type compiled struct {
	structural *structuralschema.Structural
	validator  *cel.Validator
}

func compile(raw json.RawMessage) (compiled, error) {
	var external apiextensionsv1.JSONSchemaProps
	if err := json.Unmarshal(raw, &external); err != nil {
		return compiled{}, fmt.Errorf("the schema does not decode: %w", err)
	}
	var internal apiextensions.JSONSchemaProps
	if err := apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(&external, &internal, nil); err != nil {
		return compiled{}, fmt.Errorf("the schema does not convert: %w", err)
	}
	structural, err := structuralschema.NewStructural(&internal)
	if err != nil {
		return compiled{}, fmt.Errorf("the schema is not structural: %w", err)
	}
	structural = structural.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(structural); err != nil {
		return compiled{}, fmt.Errorf("the schema's defaults do not prune: %w", err)
	}
	return compiled{structural, cel.NewValidator(structural, true, celconfig.PerCallLimit)}, nil
}

func evaluate(schema compiled, in input) []string {
	if schema.validator == nil {
		return nil
	}
	structuraldefaulting.Default(in.New, schema.structural)
	var options []cel.Option
	var old any
	if in.Old != nil {
		structuraldefaulting.Default(in.Old, schema.structural)
		old = in.Old
		correlated := common.NewCorrelatedObject(in.New, in.Old, &model.Structural{Structural: schema.structural})
		options = append(options, cel.WithRatcheting(correlated))
	}
	found, _ := schema.validator.Validate(context.Background(), nil, schema.structural, in.New, old, celconfig.RuntimeCELCostBudget, options...)
	errors := make([]string, 0, len(found))
	for _, e := range found {
		errors = append(errors, e.Error())
	}
	return errors
}

// through decodes object into the Go type of its kind in the named API and encodes it again,
// refusing a field the type does not have (the type would drop it).
func through(api string, object map[string]any) (map[string]any, error) {
	var typed any
	switch kind, _ := object["kind"].(string); {
	case api == "hypershift" && kind == "HostedCluster":
		typed = &hyperv1.HostedCluster{}
	case api == "hypershift" && kind == "NodePool":
		typed = &hyperv1.NodePool{}
	default:
		return nil, fmt.Errorf("no %s Go type for kind %q", api, kind)
	}
	data, err := json.Marshal(object)
	if err != nil {
		return nil, err
	}
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(typed); err != nil {
		return nil, fmt.Errorf("the %s Go type does not take the object: %w", api, err)
	}
	if data, err = json.Marshal(typed); err != nil {
		return nil, err
	}
	var out map[string]any
	return out, kjson.Unmarshal(data, &out)
}

// validateCRD is the API server's validation of a new CustomResourceDefinition
// (pkg/apis/apiextensions/validation ValidateCustomResourceDefinition, after the v1 defaults):
// a structural schema, and CEL rules that compile within the cost budget.
func validateCRD(raw json.RawMessage) []string {
	var external apiextensionsv1.CustomResourceDefinition
	if err := json.Unmarshal(raw, &external); err != nil {
		return []string{fmt.Sprintf("the CRD does not decode: %v", err)}
	}
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(&external)
	var internal apiextensions.CustomResourceDefinition
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(&external, &internal, nil); err != nil {
		return []string{fmt.Sprintf("the CRD does not convert: %v", err)}
	}
	found := apivalidation.ValidateCustomResourceDefinition(context.Background(), &internal)
	errors := make([]string, 0, len(found))
	for _, e := range found {
		errors = append(errors, e.Error())
	}
	return errors
}

func main() {
	var inputs []input
	data, err := io.ReadAll(os.Stdin)
	if err == nil {
		err = kjson.Unmarshal(data, &inputs)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crdrules: cannot read the inputs: %v\n", err)
		os.Exit(2)
	}
	cache := map[string]compiled{}
	failed := map[string]error{}
	outputs := make([]output, 0, len(inputs))
	for _, in := range inputs {
		if len(in.CRD) > 0 {
			outputs = append(outputs, output{Errors: validateCRD(in.CRD)})
			continue
		}
		key := string(in.Schema)
		schema, ok := cache[key]
		if !ok && failed[key] == nil {
			var err error
			if schema, err = compile(in.Schema); err != nil {
				failed[key] = err
			} else {
				cache[key] = schema
			}
		}
		if err := failed[key]; err != nil {
			outputs = append(outputs, output{Errors: []string{err.Error()}})
			continue
		}
		if in.Through != "" {
			typed, err := through(in.Through, in.New)
			if err != nil {
				outputs = append(outputs, output{Errors: []string{err.Error()}})
				continue
			}
			in.New = typed
		}
		outputs = append(outputs, output{Errors: evaluate(schema, in)})
	}
	if err := json.NewEncoder(os.Stdout).Encode(outputs); err != nil {
		fmt.Fprintf(os.Stderr, "crdrules: cannot write the outputs: %v\n", err)
		os.Exit(2)
	}
}
