// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";
import {V2Math} from "../../devnet/libraries/V2Math.sol";
import {CurveLikePool} from "../victims/CurveLikePool.sol";

/// @title BatchSwapRouter
/// @notice BENIGN look-alike: a router whose `multicall(bytes[])` (OpenZeppelin Multicall,
/// delegatecall to itself, so `msg.sender` stays the user) batches several swaps in one
/// transaction — many Swap events through several pools, like an attack's pump/unwind, but every
/// swap is an ordinary user trade paid from the user's own balance with a slippage bound.
contract BatchSwapRouter is Multicall {
    using SafeERC20 for IERC20;

    error InsufficientOutput(uint256 out, uint256 minOut);
    error EmptyPath();

    /// @notice Swaps exactly `amountIn` of `tokenIn` (pulled from the caller) through `pair`.
    /// @return out Amount of the other token sent to `to`.
    function swapExactIn(IUniswapV2Pair pair, address tokenIn, uint256 amountIn, uint256 minOut, address to)
        external
        returns (uint256 out)
    {
        out = _swapV2(pair, tokenIn, amountIn, msg.sender, to);
        if (out < minOut) revert InsufficientOutput(out, minOut);
    }

    /// @notice Multi-hop exact-in swap along `path` (each pair shares a token with the next),
    /// starting with `amountIn` of `tokenIn` pulled from the caller.
    /// @return out Amount of the last token sent to `to`.
    function swapPath(IUniswapV2Pair[] calldata path, address tokenIn, uint256 amountIn, uint256 minOut, address to)
        external
        returns (uint256 out)
    {
        uint256 n = path.length;
        if (n == 0) revert EmptyPath();
        address payer = msg.sender;
        out = amountIn;
        for (uint256 k = 0; k < n; ++k) {
            address hopTo = k + 1 == n ? to : address(this);
            address tokenOut = V2Math.otherToken(path[k], tokenIn);
            out = _swapV2(path[k], tokenIn, out, payer, hopTo);
            payer = address(this);
            tokenIn = tokenOut;
        }
        if (out < minOut) revert InsufficientOutput(out, minOut);
    }

    /// @notice Swaps `dx` of coin `i` (pulled from the caller) for coin `j` in a CurveLikePool.
    /// @return dy Amount of coin `j` sent to `to`.
    function exchangeCurve(CurveLikePool pool, int128 i, int128 j, uint256 dx, uint256 minDy, address to)
        external
        returns (uint256 dy)
    {
        IERC20 tokenIn = IERC20(pool.coins(i == 0 ? 0 : 1));
        tokenIn.safeTransferFrom(msg.sender, address(this), dx);
        tokenIn.forceApprove(address(pool), dx);
        dy = pool.exchange(i, j, dx, minDy);
        IERC20(pool.coins(j == 0 ? 0 : 1)).safeTransfer(to, dy);
    }

    /// @dev Exact-in swap through one pair, the input paid by `payer` (the caller or this router).
    function _swapV2(IUniswapV2Pair pair, address tokenIn, uint256 amountIn, address payer, address to)
        internal
        returns (uint256 out)
    {
        out = V2Math.quote(pair, tokenIn, amountIn);
        if (payer == address(this)) IERC20(tokenIn).safeTransfer(address(pair), amountIn);
        else IERC20(tokenIn).safeTransferFrom(payer, address(pair), amountIn);
        (uint256 out0, uint256 out1) = tokenIn == pair.token0() ? (uint256(0), out) : (out, uint256(0));
        pair.swap(out0, out1, to, "");
    }
}
