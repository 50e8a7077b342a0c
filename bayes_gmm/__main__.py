"""Command line: ``python -m bayes_gmm demo [--out DIR]``."""

import argparse

from ._demo import run_demo


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bayes_gmm")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="fit the 2015 PyMC notebook's data and print the posterior"
    )
    demo.add_argument(
        "--out",
        metavar="DIR",
        help="also write the table (posterior_summary.csv) and the fit (fit.nc, which "
        "BayesianMCMCMixture.load reads)",
    )
    demo.add_argument("--random-state", type=int, default=0, help="seed of the sampler")
    args = parser.parse_args(argv)

    run_demo(out=args.out, random_state=args.random_state)


if __name__ == "__main__":
    main()
