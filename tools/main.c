/*
 * synack: the command-line tool. `synack COMMAND [ARGS...]`.
 */
#include <stdio.h>
#include <string.h>

#include "tool.h"

struct command {
    const char *name;
    const char *help;
    int (*run)(int argc, char **argv);
};

static const struct command commands[] = {
    {"sim", "two stacks over a simulated link, drawn as the RFC ladder "
            "diagram",
     sim_main},
    {"diagram", "a capture's TCP connections as ladder diagrams with both "
                "ends' states",
     diagram_main},
    {"echo", "on a TAP device: echo what each connection sends", live_main},
    {"discard", "on a TAP device: read and discard (a bulk sink)",
     live_main},
    {"http", "on a TAP device: HTTP/1.1 file server with keep-alive",
     live_main},
    {"listen", "on a TAP device: accept one connection, stdin/stdout (nc -l)",
     live_main},
    {"connect", "on a TAP device: connect, stdin/stdout (nc)", live_main},
    {"bridge", "two TAP devices joined through the impaired link (Linux to "
               "Linux)",
     bridge_main},
    {"ss", "connections of every running synack process (like ss -tan)",
     ss_main},
    {"sysctl", "read or change tunables of a running synack process",
     sysctl_main},
    {"plot", "time-sequence plot (SVG) of a connection in a capture",
     plot_main},
    {"explain", "why connections (running synack processes, or a capture) "
                "are stuck",
     explain_main},
    {"trace", "state changes of running synack processes, live, with their "
              "causes",
     trace_main},
    {"packetdrill", "run packetdrill scripts against one stack on virtual "
                    "time",
     packetdrill_main},
    {"states", "the TCP state machine from the core's table: --table, "
               "--dot (Graphviz)",
     states_main},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: synack COMMAND [ARGS...]\n"
                 "\n"
                 "synack is a user-space TCP/IPv4 stack; this command runs "
                 "it.\n"
                 "\n"
                 "Commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\n"
                 "Options:\n"
                 "  -h, --help     this text\n"
                 "  --version      print the version\n"
                 "\n"
                 "'synack COMMAND --help' describes a command; 'synack sim' "
                 "runs the default scenario.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TOOL_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return TOOL_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("synack %s\n", SYNACK_TOOL_VERSION);
        return TOOL_OK;
    }
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    if (cmd[0] == '-')
        fprintf(stderr, "synack: unknown option '%s'\n\n", cmd);
    else
        fprintf(stderr, "synack: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return TOOL_USAGE;
}
