#!/usr/bin/env python3
"""Checks of plot.py's units, values and labels: plots/.venv/bin/python -m unittest discover -s plots -p 'test_*.py'"""

import unittest

from plot import as_quantity, axis_unit, ordered, shorten


class Units(unittest.TestCase):
    def test_durations_bytes_and_rates_get_a_readable_unit(self):
        self.assertEqual(axis_unit({"kind": "duration", "unit": "s"}, 0.004), (1e-3, "ms"))
        self.assertEqual(axis_unit({"kind": "duration", "unit": "s"}, 4000), (60, "min"))
        self.assertEqual(axis_unit({"kind": "bytes", "unit": "B"}, 3e9), (1e9, "GB"))
        self.assertEqual(axis_unit({"kind": "rate", "unit": "MB/s"}, 2300), (1e3, "GB/s"))
        self.assertEqual(axis_unit({"kind": "rate", "unit": "records/s"}, 8e6), (1e6, "M records/s"))
        self.assertEqual(axis_unit({"kind": "count", "unit": "records"}, 40000), (1, "records"))
        self.assertEqual(axis_unit({"kind": "count", "unit": "RPCs"}, 2e6, log=True), (1, "RPCs"))
        self.assertEqual(axis_unit({"kind": "fraction", "unit": "1"}, 0.9), (1, "fraction"))
        self.assertEqual(axis_unit(None, 5), (1, ""))


class Values(unittest.TestCase):
    def test_quantities_are_numbers_and_words_are_not(self):
        self.assertEqual(as_quantity("5min"), 300)
        self.assertEqual(as_quantity("1KiB"), 1024)
        self.assertEqual(as_quantity("0.1"), 0.1)
        self.assertIsNone(as_quantity("all"))
        self.assertIsNone(as_quantity('[{"at":"60s","host":"rack2-host1"}]'))

    def test_values_are_ordered_by_size_when_they_all_have_one(self):
        self.assertEqual(ordered(["10KiB", "10B", "1KiB"]), ["10B", "1KiB", "10KiB"])
        self.assertEqual(ordered(["1", "all", "0"]), ["1", "all", "0"])

    def test_fault_lists_read_as_words(self):
        self.assertEqual(shorten("[]"), "none")
        self.assertEqual(shorten('[{"at":"60s","host":"rack2-host1"}]'), "host rack2-host1 at 60s")
        self.assertEqual(shorten('[["rack1-host1","rack2-host1"],["*"]]'), "rack1-host1+rack2-host1 | *")
        self.assertLessEqual(max(len(line) for line in shorten("x" * 200).split("\n")), 30)


if __name__ == "__main__":
    unittest.main()
