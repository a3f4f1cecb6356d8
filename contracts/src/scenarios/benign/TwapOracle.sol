// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";

/// @title TwapOracle
/// @notice BENIGN look-alike: a keeper-updated time-weighted average price oracle over Uniswap
/// V2 pairs (the v2-periphery ExampleOracleSimple, for many pairs). `update(pairs)` reads each
/// pair's reserves and cumulative prices — a transaction that touches the very pools attacks
/// manipulate, from a contract, on a schedule — and stores the average since the last update
/// once `period` has passed. Prices are UQ112x112 fixed point, as in Uniswap V2.
contract TwapOracle {
    /// @notice Minimum time between two updates of a pair, in seconds.
    uint256 public immutable period;

    /// @notice Stored state of one pair.
    struct Observation {
        uint256 price0Cumulative;
        uint256 price1Cumulative;
        uint32 timestamp;
        uint224 price0Average; // token1 per token0, UQ112x112
        uint224 price1Average; // token0 per token1, UQ112x112
    }

    /// @notice Last observation of each pair.
    mapping(IUniswapV2Pair pair => Observation) public observations;

    event Updated(IUniswapV2Pair indexed pair, uint224 price0Average, uint224 price1Average, uint32 elapsed);

    error NotObserved(IUniswapV2Pair pair);
    error TokenNotInPair(address token);

    /// @param period_ Minimum seconds between updates of a pair (e.g. 600).
    constructor(uint256 period_) {
        period = period_;
    }

    /// @notice Records each pair's cumulative prices; a pair seen for the first time is only
    /// recorded, a pair whose period has elapsed also gets new averages; others are skipped.
    /// @return updated Number of pairs whose averages changed.
    function update(IUniswapV2Pair[] calldata pairs) external returns (uint256 updated) {
        for (uint256 k = 0; k < pairs.length; ++k) {
            IUniswapV2Pair pair = pairs[k];
            Observation storage o = observations[pair];
            (uint256 c0, uint256 c1, uint32 now32) = currentCumulativePrices(pair);
            if (o.timestamp != 0) {
                uint32 elapsed;
                unchecked {
                    elapsed = now32 - o.timestamp; // wraps like Uniswap's timestamps
                }
                if (elapsed < period) continue;
                unchecked {
                    // Cumulative prices are meant to overflow; differences stay correct.
                    o.price0Average = uint224((c0 - o.price0Cumulative) / elapsed);
                    o.price1Average = uint224((c1 - o.price1Cumulative) / elapsed);
                }
                ++updated;
                emit Updated(pair, o.price0Average, o.price1Average, elapsed);
            }
            o.price0Cumulative = c0;
            o.price1Cumulative = c1;
            o.timestamp = now32;
        }
    }

    /// @notice Output of `amountIn` of `tokenIn` at the pair's stored average price.
    function consult(IUniswapV2Pair pair, address tokenIn, uint256 amountIn) external view returns (uint256) {
        Observation memory o = observations[pair];
        if (o.price0Average == 0 && o.price1Average == 0) revert NotObserved(pair);
        if (tokenIn == pair.token0()) return (uint256(o.price0Average) * amountIn) >> 112;
        if (tokenIn == pair.token1()) return (uint256(o.price1Average) * amountIn) >> 112;
        revert TokenNotInPair(tokenIn);
    }

    /// @notice The pair's cumulative prices as of now (counterfactually accrued since its last
    /// trade, as UniswapV2OracleLibrary does), and the current 32-bit timestamp.
    function currentCumulativePrices(IUniswapV2Pair pair)
        public
        view
        returns (uint256 price0Cumulative, uint256 price1Cumulative, uint32 now32)
    {
        // forge-lint: disable-next-line(unsafe-typecast)
        now32 = uint32(block.timestamp); // Uniswap V2 keeps timestamps mod 2**32
        price0Cumulative = pair.price0CumulativeLast();
        price1Cumulative = pair.price1CumulativeLast();
        (uint112 r0, uint112 r1, uint32 last) = pair.getReserves();
        if (last != now32 && r0 != 0 && r1 != 0) {
            unchecked {
                uint256 elapsed = now32 - last;
                // Same rounding as Uniswap's UQ112x112 encode-then-multiply.
                // forge-lint: disable-next-line(divide-before-multiply)
                price0Cumulative += ((uint256(r1) << 112) / r0) * elapsed;
                // forge-lint: disable-next-line(divide-before-multiply)
                price1Cumulative += ((uint256(r0) << 112) / r1) * elapsed;
            }
        }
    }
}
