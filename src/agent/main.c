#include "agent/cli.h"

int main(int argc, char **argv)
{
    return coce_cli_main(argc, argv);
}
