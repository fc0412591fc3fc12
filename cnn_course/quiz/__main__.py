"""A drill in a terminal: python -m cnn_course.quiz [UNIT ...] [-n 20] [--seed 7] (make drill)."""

import argparse

from cnn_course.quiz.drill import drill


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m cnn_course.quiz", description="a timed 確認テスト drill")
    parser.add_argument("units", nargs="*", type=int, help="unit numbers (all units when none)")
    parser.add_argument("-n", type=int, default=20, help="number of questions (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="the same seed gives the same drill")
    parser.add_argument("--answers", default=None, help="score these letters instead of asking")
    args = parser.parse_args(argv)
    drill(units=args.units or None, n=args.n, seed=args.seed, answers=args.answers)


if __name__ == "__main__":
    main()
