// Command celready evaluates provider-kubernetes readiness queries the way provider-kubernetes
// does (crossplane-contrib/provider-kubernetes@005efae9
// internal/controller/object/object.go, checkDeriveFromCelQuery): a CEL environment with one
// variable `object` of type any, the query compiled and required to be of type bool, and
// evaluated against the observed object as decoded JSON; the object is ready exactly when the
// result is true, and a compile or evaluation error makes the Object unavailable with that
// error as its message.
//
// It reads a JSON array of {"query": string, "object": any} from stdin and writes a JSON array
// of {"ready": bool, "error": string} (error empty when there was none), one per input, to
// stdout. tests/crossplane.rs runs it on the queries function-sco emits.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"reflect"

	"github.com/google/cel-go/cel"
	celtypes "github.com/google/cel-go/common/types"
)

type input struct {
	Query  string         `json:"query"`
	Object map[string]any `json:"object"`
}

type output struct {
	Ready bool   `json:"ready"`
	Error string `json:"error"`
}

func evaluate(env *cel.Env, in input) output {
	if in.Query == "" {
		return output{Error: "cel query cannot be empty"}
	}
	ast, issues := env.Compile(in.Query)
	if issues.Err() != nil {
		return output{Error: fmt.Sprintf("failed to compile: %v", issues.Err())}
	}
	if !reflect.DeepEqual(ast.OutputType(), cel.BoolType) {
		return output{Error: fmt.Sprintf("the query is of type %v, not bool", ast.OutputType())}
	}
	program, err := env.Program(ast)
	if err != nil {
		return output{Error: fmt.Sprintf("failed to create the program: %v", err)}
	}
	value, _, err := program.Eval(map[string]any{"object": in.Object})
	if err != nil {
		return output{Error: fmt.Sprintf("failed to evaluate: %v", err)}
	}
	return output{Ready: value == celtypes.True}
}

func main() {
	var inputs []input
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		fmt.Fprintf(os.Stderr, "celready: reading the queries: %v\n", err)
		os.Exit(2)
	}
	env, err := cel.NewEnv(cel.Variable("object", cel.AnyType))
	if err != nil {
		fmt.Fprintf(os.Stderr, "celready: %v\n", err)
		os.Exit(2)
	}
	outputs := make([]output, 0, len(inputs))
	for _, in := range inputs {
		outputs = append(outputs, evaluate(env, in))
	}
	if err := json.NewEncoder(os.Stdout).Encode(outputs); err != nil {
		fmt.Fprintf(os.Stderr, "celready: %v\n", err)
		os.Exit(2)
	}
}
