// compose-check loads a compose file the way `docker compose config` does (compose-go, the Compose specification's
// reference loader): schema validation, variable interpolation (required ${VAR:?...} variables must be set), merge
// keys, and references between services, networks and volumes. It prints the resolved project as JSON, or the
// loader's error and exits 1. docker/ has no Docker engine to run `docker compose config` with here.
//
//	compose-check docker/compose.yaml   (variables from the environment)
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: compose-check <compose.yaml>")
		os.Exit(2)
	}
	options, err := cli.NewProjectOptions([]string{os.Args[1]}, cli.WithOsEnv, cli.WithName("flowcrew"), cli.WithResolvedPaths(false))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	project, err := options.LoadProject(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(string(out))
}
