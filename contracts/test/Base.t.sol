// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "./base/Test.sol";

contract Counter {
    uint256 public n;

    function inc() external {
        n += 1;
    }
}

/// Checks that the home-made test base works with this Forge: asserts, fuzzing, invariants.
contract BaseTest is Test {
    Counter internal counter;

    function setUp() public {
        counter = new Counter();
        targetContract(address(counter));
    }

    function test_assertFails() public {
        vm.expectRevert();
        this.failing();
    }

    function failing() external pure {
        vm.assertEq(uint256(1), uint256(2), "expected to fail");
    }

    function testFuzz_bound(uint256 x) public pure {
        uint256 y = bound(x, 10, 20);
        assertGe(y, 10, "lower");
        assertLe(y, 20, "upper");
    }

    function invariant_counterNeverDecreases() public view {
        assertGe(counter.n(), 0, "n");
    }
}
