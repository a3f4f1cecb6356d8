// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IUniswapV2Factory} from "../../devnet/interfaces/IUniswapV2Factory.sol";
import {IUniswapV2Pair} from "../../devnet/interfaces/IUniswapV2Pair.sol";

/// @title LaunchToken
/// @notice BENIGN look-alike: an ordinary fixed-supply ERC-20, created in a transaction (directly
/// by an EOA, or by TokenLauncher). Contract creation in the same transaction as transfers and
/// pool activity is also what one-shot attacks look like.
contract LaunchToken is ERC20 {
    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param supply Whole supply (18 decimals) minted to `holder`.
    /// @param holder Receiver of the supply.
    constructor(string memory name_, string memory symbol_, uint256 supply, address holder) ERC20(name_, symbol_) {
        _mint(holder, supply);
    }
}

/// @title TokenLauncher
/// @notice BENIGN look-alike: in one transaction, deploys a LaunchToken, creates its Uniswap V2
/// pair against a quote token and seeds it with liquidity (quote pulled from the caller); the LP
/// tokens and the remaining supply go to the caller.
contract TokenLauncher {
    using SafeERC20 for IERC20;

    event Launched(address indexed token, address indexed pair, address indexed creator, uint256 supply);

    /// @param name_ Token name.
    /// @param symbol_ Token symbol.
    /// @param supply Whole supply (18 decimals).
    /// @param factory Uniswap V2 factory to create the pair on.
    /// @param quoteToken Token to pair with (caller must approve `quoteAmount`).
    /// @param quoteAmount Quote tokens put in the pool.
    /// @param tokenAmount New tokens put in the pool (<= supply).
    /// @return token The new token.
    /// @return pair Its new pair.
    function launch(
        string calldata name_,
        string calldata symbol_,
        uint256 supply,
        IUniswapV2Factory factory,
        IERC20 quoteToken,
        uint256 quoteAmount,
        uint256 tokenAmount
    ) external returns (LaunchToken token, IUniswapV2Pair pair) {
        token = new LaunchToken(name_, symbol_, supply, address(this));
        pair = IUniswapV2Pair(factory.createPair(address(token), address(quoteToken)));
        IERC20(address(token)).safeTransfer(address(pair), tokenAmount);
        quoteToken.safeTransferFrom(msg.sender, address(pair), quoteAmount);
        pair.mint(msg.sender);
        if (supply > tokenAmount) IERC20(address(token)).safeTransfer(msg.sender, supply - tokenAmount);
        emit Launched(address(token), address(pair), msg.sender, supply);
    }
}
