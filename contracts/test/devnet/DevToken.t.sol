// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "../base/Test.sol";
import {DevToken} from "../../src/devnet/DevToken.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

contract DevTokenTest is Test {
    function test_decimalsAndMint() public {
        DevToken usdc = new DevToken("Dev USD", "USD", 6, address(this));
        DevToken weth = new DevToken("Dev Wrapped Ether", "WETH", 18, address(this));
        assertEq(uint256(usdc.decimals()), 6, "6 decimals");
        assertEq(uint256(weth.decimals()), 18, "18 decimals");
        usdc.mint(address(0xA11CE), 123e6);
        assertEq(usdc.balanceOf(address(0xA11CE)), 123e6, "minted");
        assertEq(usdc.totalSupply(), 123e6, "supply");
    }

    function test_onlyOwnerMints() public {
        DevToken token = new DevToken("Dev USD", "USD", 6, address(0x0A));
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, address(this)));
        token.mint(address(this), 1);
        vm.prank(address(0x0A));
        token.mint(address(this), 1);
        assertEq(token.balanceOf(address(this)), 1, "owner minted");
    }
}
