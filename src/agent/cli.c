#include "agent/cli.h"

#include <stdio.h>

int coce_cli_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("coce %s\n", COCE_VERSION);
    return 0;
}
